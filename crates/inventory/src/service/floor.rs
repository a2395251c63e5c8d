//! Stock effects of warehouse floor work, run inside someone else's open
//! [`InventoryTransaction`]: goods booked in when an inbound shipment closes, a cycle count's
//! variance, and units quarantined after failed QC (then released or disposed of). The floor's
//! SQL unit of work calls these on its own transaction, so the floor aggregate, the stock
//! levels, their ledger movements and the outbox events commit together.
//!
//! Rules:
//! - a receipt adds on hand (a `receipt` movement) and moves the weighted average cost like
//!   `POST /receipts`;
//! - a count moves on hand by the variance (a `count` movement, the counter as actor); it is
//!   refused with `BelowReserved` if on hand would drop below what is reserved (orders keep
//!   their units; cancel or re-allocate them first); on hand never goes below zero;
//! - a quarantine reserves the units under `quarantine:<id>` (a `reservation` movement), so
//!   `available` drops at once and no order can take them; it needs them available
//!   (`InsufficientStock` otherwise). Release gives them back (`release` movement, a
//!   `reservation.released` event so waiting backorders fill); dispose releases and takes them
//!   off on hand (an `adjustment` movement).

use super::{lock_sku_everywhere, low_stock_alert, sku_event, stocked_product};
use crate::allocation::Reservation;
use crate::ports::InventoryTransaction;
use crate::reservations::MovementMeta;
use crate::{
    AverageCost, InventoryError, MovementKind, StockDelta, StockLevel, StockMovement, Warehouse,
};
use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, Money, MovementId, Quantity, RequestContext, Sku, ValidationErrors};
use serde_json::json;

/// Books `quantity` good units of `sku` into `warehouse` (a `receipt` movement under
/// `reference`), moving the average cost by `cost` (or the product's unit cost). Returns the
/// level after it and its `inventory.changed` event; the caller appends the event.
#[allow(clippy::too_many_arguments)]
pub async fn book_receipt(
    tx: &mut dyn InventoryTransaction,
    ctx: &RequestContext,
    warehouse: &Warehouse,
    sku: &Sku,
    quantity: Quantity,
    cost: Option<Money>,
    reference: Option<String>,
    now: DateTime<Utc>,
) -> Result<(StockLevel, EventEnvelope), InventoryError> {
    let product = stocked_product(tx, sku).await?;
    let everywhere = tx.lock_stock(std::slice::from_ref(sku)).await?;
    let current = tx
        .lock_level(warehouse.id, sku)
        .await?
        .unwrap_or_else(|| StockLevel::empty(warehouse.id, sku.clone()));
    let delta = StockDelta {
        on_hand: quantity.as_i64(),
        ..Default::default()
    };
    let level = current
        .apply(&delta)
        .map_err(|e| ValidationErrors::single("lines", e))?;
    if let Some(cost) = cost.or(product.unit_cost) {
        let on_hand: i64 = everywhere.iter().map(|r| r.on_hand).sum();
        let opening = Quantity::new(on_hand).unwrap_or(Quantity::ZERO);
        let average = match product.average_cost {
            Some(avg) => AverageCost::opening(opening, avg),
            None => Ok(AverageCost::empty(cost.currency)),
        }
        .and_then(|a| a.receive(quantity, cost))
        .map_err(|e| ValidationErrors::single("lines.unit_cost", e))?;
        tx.save_average_cost(sku, average.unit_cost()).await?;
    }
    tx.save_level(&level).await?;
    tx.record_movement(&StockMovement {
        id: MovementId::new(),
        tenant_id: ctx.tenant_id,
        warehouse_id: warehouse.id,
        sku: sku.clone(),
        kind: MovementKind::Receipt,
        on_hand_delta: quantity.as_i64(),
        reserved_delta: 0,
        incoming_delta: 0,
        reason: None,
        reference,
        actor: Some(ctx.actor.clone()),
        occurred_at: now,
    })
    .await?;
    let event = sku_event(
        ctx,
        "inventory.changed",
        sku,
        now,
        json!({
            "sku": sku,
            "warehouse": warehouse.code,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available(),
            "on_hand_delta": quantity,
            "cause": "receipt",
        }),
    );
    Ok((level, event))
}

/// Moves on hand of `sku` in `warehouse` by a count's `delta` (a `count` movement with
/// `reason` and `reference`, the caller's actor as the counter) and appends its events.
/// Errors: `BelowReserved` if on hand would drop below what is reserved; `UnknownSku` /
/// `KitHasNoStock` for a SKU that is not a stocked product.
#[allow(clippy::too_many_arguments)]
pub async fn count_variance(
    tx: &mut dyn InventoryTransaction,
    ctx: &RequestContext,
    warehouse: &Warehouse,
    sku: &Sku,
    delta: i64,
    reason: String,
    reference: String,
    now: DateTime<Utc>,
) -> Result<StockLevel, InventoryError> {
    stocked_product(tx, sku).await?;
    let (available_before, threshold) = lock_sku_everywhere(tx, sku).await?;
    let current = tx
        .lock_level(warehouse.id, sku)
        .await?
        .unwrap_or_else(|| StockLevel::empty(warehouse.id, sku.clone()));
    let counted = Quantity::new((current.on_hand.as_i64() + delta).max(0))
        .map_err(|e| ValidationErrors::single("counted", e))?;
    let adjustment = current.count_to(counted)?;
    if adjustment.on_hand_delta == 0 {
        return Ok(current);
    }
    let level = adjustment.after;
    tx.save_level(&level).await?;
    tx.record_movement(&StockMovement {
        id: MovementId::new(),
        tenant_id: ctx.tenant_id,
        warehouse_id: warehouse.id,
        sku: sku.clone(),
        kind: MovementKind::Count,
        on_hand_delta: adjustment.on_hand_delta,
        reserved_delta: 0,
        incoming_delta: 0,
        reason: Some(reason),
        reference: Some(reference),
        actor: Some(ctx.actor.clone()),
        occurred_at: now,
    })
    .await?;
    let mut events = vec![sku_event(
        ctx,
        "inventory.changed",
        sku,
        now,
        json!({
            "sku": sku,
            "warehouse": warehouse.code,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available(),
            "on_hand_delta": adjustment.on_hand_delta,
            "cause": "count",
        }),
    )];
    events.extend(low_stock_alert(
        ctx,
        sku,
        threshold,
        available_before,
        available_before + adjustment.on_hand_delta,
        now,
        "count",
    ));
    tx.append_events(&events).await?;
    Ok(level)
}

/// Takes `quantity` units of `sku` in `warehouse` out of `available` by reserving them under
/// `owner` (`quarantine:<id>`). Errors: `InsufficientStock` when fewer are available there.
pub async fn quarantine(
    tx: &mut dyn InventoryTransaction,
    ctx: &RequestContext,
    warehouse: &Warehouse,
    sku: &Sku,
    quantity: Quantity,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<(), InventoryError> {
    let rows = tx.lock_stock(std::slice::from_ref(sku)).await?;
    let available_before: i64 = rows.iter().map(|r| r.on_hand - r.reserved).sum();
    let here = rows
        .iter()
        .find(|r| r.warehouse_id == warehouse.id)
        .map_or(0, |r| r.on_hand - r.reserved);
    if here < quantity.as_i64() {
        return Err(InventoryError::InsufficientStock(vec![(
            sku.clone(),
            quantity.as_i64() - here,
        )]));
    }
    let meta = MovementMeta::for_request(ctx, owner.to_owned(), now);
    tx.add_reservations(
        &[Reservation {
            line_no: 1,
            warehouse_id: warehouse.id,
            sku: sku.clone(),
            quantity,
        }],
        &meta,
    )
    .await?;
    let threshold = rows.first().and_then(|r| r.low_stock_threshold);
    let mut events = vec![sku_event(
        ctx,
        "inventory.changed",
        sku,
        now,
        json!({
            "sku": sku,
            "warehouse": warehouse.code,
            "reserved_delta": quantity,
            "on_hand_delta": 0,
            "cause": "quarantine",
            "reference": owner,
        }),
    )];
    events.extend(low_stock_alert(
        ctx,
        sku,
        threshold,
        available_before,
        available_before - quantity.as_i64(),
        now,
        "quarantine",
    ));
    tx.append_events(&events).await?;
    Ok(())
}

/// Gives quarantined units back to `available` (a `release` movement) and raises
/// `reservation.released` so orders waiting for `sku` fill. Returns the units released.
pub async fn release_quarantine(
    tx: &mut dyn InventoryTransaction,
    ctx: &RequestContext,
    sku: &Sku,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<i64, InventoryError> {
    tx.lock_stock(std::slice::from_ref(sku)).await?;
    let meta = MovementMeta::for_request(ctx, owner.to_owned(), now);
    let released = tx.release_reservations(&meta).await?;
    let units: i64 = released.iter().map(|r| r.quantity.as_i64()).sum();
    tx.append_events(&[EventEnvelope::new(
        "reservation.released",
        ctx.tenant_id,
        now,
        "reservation",
        uuid::Uuid::new_v5(ctx.tenant_id.as_uuid(), owner.as_bytes()),
        now.timestamp_micros(),
        json!({
            "reference": owner,
            "cause": "quarantine_released",
            "lines": released.iter().map(|r| json!({ "sku": r.sku, "quantity": r.quantity }))
                .collect::<Vec<_>>(),
        }),
        Some(ctx.correlation_id),
    )])
    .await?;
    Ok(units)
}

/// Writes quarantined units off: their reservation goes (`release`) and they leave on hand
/// (an `adjustment` movement with `reason`). Returns the units disposed of.
pub async fn dispose_quarantined(
    tx: &mut dyn InventoryTransaction,
    ctx: &RequestContext,
    warehouse: &Warehouse,
    sku: &Sku,
    owner: &str,
    reason: String,
    now: DateTime<Utc>,
) -> Result<i64, InventoryError> {
    tx.lock_stock(std::slice::from_ref(sku)).await?;
    let meta = MovementMeta::for_request(ctx, owner.to_owned(), now);
    let released = tx.release_reservations(&meta).await?;
    let units: i64 = released.iter().map(|r| r.quantity.as_i64()).sum();
    if units == 0 {
        return Ok(0);
    }
    let current = tx
        .lock_level(warehouse.id, sku)
        .await?
        .unwrap_or_else(|| StockLevel::empty(warehouse.id, sku.clone()));
    let level = current
        .apply(&StockDelta {
            on_hand: -units,
            ..Default::default()
        })
        .map_err(|e| ValidationErrors::single("quantity", e))?;
    tx.save_level(&level).await?;
    tx.record_movement(&StockMovement {
        id: MovementId::new(),
        tenant_id: ctx.tenant_id,
        warehouse_id: warehouse.id,
        sku: sku.clone(),
        kind: MovementKind::Adjustment,
        on_hand_delta: -units,
        reserved_delta: 0,
        incoming_delta: 0,
        reason: Some(reason),
        reference: Some(owner.to_owned()),
        actor: Some(ctx.actor.clone()),
        occurred_at: now,
    })
    .await?;
    tx.append_events(&[sku_event(
        ctx,
        "inventory.changed",
        sku,
        now,
        json!({
            "sku": sku,
            "warehouse": warehouse.code,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available(),
            "on_hand_delta": -units,
            "cause": "disposed",
        }),
    )])
    .await?;
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::LockedStock;
    use crate::service::tests::MockTx;
    use kernel::{TenantId, WarehouseId};

    fn sku() -> Sku {
        Sku::parse("MUG-01").unwrap()
    }

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn ctx() -> RequestContext {
        RequestContext::new(TenantId::new(), "user:ana")
    }

    fn main() -> Warehouse {
        crate::NewWarehouse::default_for_signup()
            .validate(
                WarehouseId::from_uuid(uuid::Uuid::from_u128(7)),
                TenantId::new(),
                true,
                Utc::now(),
            )
            .unwrap()
    }

    fn level(on_hand: i64, reserved: i64) -> StockLevel {
        StockLevel {
            on_hand: q(on_hand),
            reserved: q(reserved),
            ..StockLevel::empty(main().id, sku())
        }
    }

    fn rows(tx: &mut MockTx, on_hand: i64, reserved: i64) {
        tx.expect_lock_product().returning(|_| {
            Ok(Some(
                crate::NewProduct {
                    sku: "MUG-01".into(),
                    name: "Mug".into(),
                    ..Default::default()
                }
                .validate(kernel::ProductId::new(), TenantId::new(), Utc::now())
                .unwrap(),
            ))
        });
        tx.expect_lock_stock().returning(move |_| {
            Ok(vec![LockedStock {
                warehouse_id: main().id,
                priority: 0,
                sku: sku(),
                on_hand,
                reserved,
                low_stock_threshold: None,
                cutoff_minute: 900,
            }])
        });
    }

    #[tokio::test]
    async fn a_count_variance_writes_a_count_movement_by_the_counter_naming_the_bin() {
        let mut tx = MockTx::new();
        rows(&mut tx, 10, 2);
        tx.expect_lock_level()
            .returning(|_, _| Ok(Some(level(10, 2))));
        tx.expect_save_level()
            .withf(|l| l.on_hand == q(7))
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_record_movement()
            .withf(|m| {
                m.kind == MovementKind::Count
                    && m.on_hand_delta == -3
                    && m.actor.as_deref() == Some("user:ana")
                    && m.reason.as_deref() == Some("cycle count of bin A-01")
            })
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_append_events().times(1).returning(|_| Ok(()));
        let after = count_variance(
            &mut tx,
            &ctx(),
            &main(),
            &sku(),
            -3,
            "cycle count of bin A-01".into(),
            "count:1".into(),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(after.available(), q(5));
    }

    #[tokio::test]
    async fn a_count_that_would_leave_reservations_without_stock_writes_nothing() {
        let mut tx = MockTx::new();
        rows(&mut tx, 10, 8);
        tx.expect_lock_level()
            .returning(|_, _| Ok(Some(level(10, 8))));
        tx.expect_save_level().never();
        tx.expect_record_movement().never();
        let err = count_variance(
            &mut tx,
            &ctx(),
            &main(),
            &sku(),
            -3,
            "count".into(),
            "count:1".into(),
            now(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, InventoryError::BelowReserved { .. }));
    }

    #[tokio::test]
    async fn quarantine_reserves_the_units_under_its_owner_so_available_drops() {
        let mut tx = MockTx::new();
        rows(&mut tx, 10, 2);
        tx.expect_add_reservations()
            .withf(|r, meta| r[0].quantity == q(3) && meta.reference == "quarantine:9")
            .times(1)
            .returning(|_, _| Ok(()));
        tx.expect_append_events().times(1).returning(|_| Ok(()));
        quarantine(
            &mut tx,
            &ctx(),
            &main(),
            &sku(),
            q(3),
            "quarantine:9",
            now(),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn quarantine_needs_the_units_available_in_that_warehouse() {
        let mut tx = MockTx::new();
        rows(&mut tx, 10, 8);
        tx.expect_add_reservations().never();
        let err = quarantine(
            &mut tx,
            &ctx(),
            &main(),
            &sku(),
            q(3),
            "quarantine:9",
            now(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, InventoryError::InsufficientStock(s) if s == vec![(sku(), 1)]));
    }

    #[tokio::test]
    async fn disposing_releases_the_quarantine_and_takes_the_units_off_on_hand() {
        let mut tx = MockTx::new();
        rows(&mut tx, 10, 3);
        tx.expect_release_reservations().times(1).returning(|_| {
            Ok(vec![Reservation {
                line_no: 1,
                warehouse_id: main().id,
                sku: sku(),
                quantity: q(3),
            }])
        });
        tx.expect_lock_level()
            .returning(|_, _| Ok(Some(level(10, 0))));
        tx.expect_save_level()
            .withf(|l| l.on_hand == q(7) && l.reserved == q(0))
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_record_movement()
            .withf(|m| m.kind == MovementKind::Adjustment && m.on_hand_delta == -3)
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_append_events().times(1).returning(|_| Ok(()));
        let units = dispose_quarantined(
            &mut tx,
            &ctx(),
            &main(),
            &sku(),
            "quarantine:9",
            "disposed after failed QC".into(),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(units, 3);
    }
}
