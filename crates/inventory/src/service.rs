//! Inventory use cases. Generic over the ports, so tests run them against mocks.

use crate::ports::{InventoryUnitOfWork, ProductRepository, StockQueries};
use crate::{InventoryError, MovementKind, NewProduct, Product, StockLevel, StockMovement};
use kernel::{
    Clock, EventEnvelope, MovementId, Page, PageRequest, ProductId, Quantity, RequestContext, Sku,
    ValidationErrors,
};
use serde_json::json;

pub struct InventoryService<P, S, U, C> {
    products: P,
    stock: S,
    uow: U,
    clock: C,
}

/// A counted quantity, as a warehouse or seller reports it.
#[derive(Debug, Clone)]
pub struct SetCountedQuantity {
    pub sku: Sku,
    pub on_hand: Quantity,
    pub reason: String,
    /// From `If-Match`: refuse the change unless the stock is still at this version.
    pub expected_version: Option<i64>,
}

impl<P, S, U, C> InventoryService<P, S, U, C>
where
    P: ProductRepository,
    S: StockQueries,
    U: InventoryUnitOfWork,
    C: Clock,
{
    pub fn new(products: P, stock: S, uow: U, clock: C) -> Self {
        Self {
            products,
            stock,
            uow,
            clock,
        }
    }

    pub async fn register_product(
        &self,
        ctx: &RequestContext,
        draft: NewProduct,
    ) -> Result<Product, InventoryError> {
        let product = draft.validate(ProductId::new(), ctx.tenant_id, self.clock.now())?;
        self.products.insert(&product).await?;
        Ok(product)
    }

    pub async fn product(
        &self,
        ctx: &RequestContext,
        sku: &Sku,
    ) -> Result<Product, InventoryError> {
        self.products
            .get(ctx.tenant_id, sku)
            .await?
            .ok_or_else(|| InventoryError::UnknownSku(sku.clone()))
    }

    pub async fn products(
        &self,
        ctx: &RequestContext,
        page: PageRequest<Sku>,
    ) -> Result<Page<Product, Sku>, InventoryError> {
        Ok(self.products.list(ctx.tenant_id, page).await?)
    }

    pub async fn stock_level(
        &self,
        ctx: &RequestContext,
        sku: &Sku,
    ) -> Result<StockLevel, InventoryError> {
        self.stock
            .level(ctx.tenant_id, sku)
            .await?
            .ok_or_else(|| InventoryError::UnknownSku(sku.clone()))
    }

    pub async fn stock_levels(
        &self,
        ctx: &RequestContext,
        page: PageRequest<Sku>,
    ) -> Result<Page<StockLevel, Sku>, InventoryError> {
        Ok(self.stock.list(ctx.tenant_id, page).await?)
    }

    /// Sets on hand to a counted figure by writing an adjustment movement: never a silent
    /// overwrite, and never below what is reserved.
    pub async fn set_counted_quantity(
        &self,
        ctx: &RequestContext,
        cmd: SetCountedQuantity,
    ) -> Result<StockLevel, InventoryError> {
        let reason = cmd.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(ValidationErrors::single(
                "reason",
                "say why the quantity changes (1 to 500 characters), e.g. \"cycle count\"",
            )
            .into());
        }
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let current = tx
            .lock_level(&cmd.sku)
            .await?
            .ok_or_else(|| InventoryError::UnknownSku(cmd.sku.clone()))?;
        if let Some(expected) = cmd.expected_version
            && expected != current.version
        {
            return Err(InventoryError::VersionMismatch {
                sku: cmd.sku,
                expected,
                actual: current.version,
            });
        }
        let adjustment = current.count_to(cmd.on_hand)?;
        let now = self.clock.now();
        let level = adjustment.after;
        tx.save_level(&level).await?;
        tx.record_movement(&StockMovement {
            id: MovementId::new(),
            tenant_id: ctx.tenant_id,
            sku: cmd.sku.clone(),
            kind: MovementKind::Adjustment,
            on_hand_delta: adjustment.on_hand_delta,
            reserved_delta: 0,
            reason: Some(reason),
            reference: None,
            actor: Some(ctx.actor.clone()),
            occurred_at: now,
        })
        .await?;
        tx.append_events(&[EventEnvelope::new(
            "inventory.changed",
            ctx.tenant_id,
            now,
            "stock_level",
            uuid::Uuid::new_v5(ctx.tenant_id.as_uuid(), cmd.sku.as_str().as_bytes()),
            level.version,
            json!({
                "sku": level.sku,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
                "available": level.available(),
                "on_hand_delta": adjustment.on_hand_delta,
                "cause": "adjustment",
            }),
            Some(ctx.correlation_id),
        )])
        .await?;
        tx.commit().await?;
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{
        MockInventoryTransaction, MockInventoryUnitOfWork, MockProductRepository, MockStockQueries,
    };
    use chrono::{TimeZone, Utc};
    use kernel::{FixedClock, TenantId};
    use mockall::predicate::*;

    fn ctx() -> RequestContext {
        RequestContext::new(TenantId::new(), "api_key:test")
    }

    fn sku() -> Sku {
        Sku::parse("MUG-01").unwrap()
    }

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn clock() -> FixedClock {
        FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap())
    }

    fn service_with(
        uow: MockInventoryUnitOfWork,
    ) -> InventoryService<
        MockProductRepository,
        MockStockQueries,
        MockInventoryUnitOfWork,
        FixedClock,
    > {
        InventoryService::new(
            MockProductRepository::new(),
            MockStockQueries::new(),
            uow,
            clock(),
        )
    }

    fn uow_with(tx: MockInventoryTransaction) -> MockInventoryUnitOfWork {
        let mut uow = MockInventoryUnitOfWork::new();
        let mut tx = Some(tx);
        uow.expect_begin()
            .times(1)
            .returning(move |_| Ok(Box::new(tx.take().expect("begun once"))));
        uow
    }

    fn level(on_hand: i64, reserved: i64, version: i64) -> StockLevel {
        StockLevel {
            sku: sku(),
            on_hand: q(on_hand),
            reserved: q(reserved),
            version,
        }
    }

    fn count(on_hand: i64, expected_version: Option<i64>) -> SetCountedQuantity {
        SetCountedQuantity {
            sku: sku(),
            on_hand: q(on_hand),
            reason: "cycle count".into(),
            expected_version,
        }
    }

    #[tokio::test]
    async fn a_count_writes_an_adjustment_movement_the_new_level_and_an_event_then_commits() {
        let mut tx = MockInventoryTransaction::new();
        tx.expect_lock_level()
            .with(eq(sku()))
            .returning(|_| Ok(Some(level(10, 2, 5))));
        tx.expect_save_level()
            .withf(|l| l.on_hand.get() == 25 && l.reserved.get() == 2 && l.version == 6)
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_record_movement()
            .withf(|m| {
                m.kind == MovementKind::Adjustment
                    && m.on_hand_delta == 15
                    && m.reserved_delta == 0
                    && m.reason.as_deref() == Some("cycle count")
                    && m.actor.as_deref() == Some("api_key:test")
            })
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_append_events()
            .withf(|e| e.len() == 1 && e[0].event_type == "inventory.changed")
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_commit().times(1).returning(|| Ok(()));

        let level = service_with(uow_with(tx))
            .set_counted_quantity(&ctx(), count(25, None))
            .await
            .unwrap();
        assert_eq!(level.available().get(), 23);
    }

    #[tokio::test]
    async fn a_stale_version_is_refused_and_nothing_is_written() {
        let mut tx = MockInventoryTransaction::new();
        tx.expect_lock_level()
            .returning(|_| Ok(Some(level(10, 0, 5))));
        tx.expect_save_level().never();
        tx.expect_commit().never();
        let err = service_with(uow_with(tx))
            .set_counted_quantity(&ctx(), count(3, Some(4)))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            InventoryError::VersionMismatch {
                expected: 4,
                actual: 5,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_count_below_reservations_is_refused_and_nothing_is_written() {
        let mut tx = MockInventoryTransaction::new();
        tx.expect_lock_level()
            .returning(|_| Ok(Some(level(10, 8, 1))));
        tx.expect_save_level().never();
        tx.expect_record_movement().never();
        tx.expect_commit().never();
        let err = service_with(uow_with(tx))
            .set_counted_quantity(&ctx(), count(7, None))
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::BelowReserved { .. }));
    }

    #[tokio::test]
    async fn counting_an_unknown_sku_is_not_found() {
        let mut tx = MockInventoryTransaction::new();
        tx.expect_lock_level().returning(|_| Ok(None));
        tx.expect_commit().never();
        let err = service_with(uow_with(tx))
            .set_counted_quantity(&ctx(), count(1, None))
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::UnknownSku(_)));
    }

    #[tokio::test]
    async fn a_count_without_a_reason_is_refused_before_touching_storage() {
        let mut uow = MockInventoryUnitOfWork::new();
        uow.expect_begin().never();
        let err = service_with(uow)
            .set_counted_quantity(
                &ctx(),
                SetCountedQuantity {
                    reason: "  ".into(),
                    ..count(1, None)
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, InventoryError::Invalid(_)));
    }

    #[tokio::test]
    async fn registering_a_product_stores_it_for_the_callers_tenant() {
        let ctx = ctx();
        let tenant = ctx.tenant_id;
        let mut products = MockProductRepository::new();
        products
            .expect_insert()
            .withf(move |p| p.tenant_id == tenant && p.sku.as_str() == "MUG-01")
            .times(1)
            .returning(|_| Ok(()));
        let service = InventoryService::new(
            products,
            MockStockQueries::new(),
            MockInventoryUnitOfWork::new(),
            clock(),
        );
        let product = service
            .register_product(
                &ctx,
                NewProduct {
                    sku: "MUG-01".into(),
                    name: "Mug".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(product.created_at, clock().now());
    }
}
