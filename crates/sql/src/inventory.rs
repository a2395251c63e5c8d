use crate::entities::{product, stock_level, stock_movement};
use crate::{SqlStore, is_unique_violation, outbox, store_err};
use async_trait::async_trait;
use inventory::ports::{
    InventoryTransaction, InventoryUnitOfWork, ProductRepository, StockQueries,
};
use inventory::{Dimensions, InventoryError, MovementKind, Product, StockLevel, StockMovement};
use kernel::{
    Currency, EventEnvelope, Money, MovementId, Page, PageRequest, ProductId, Quantity, Sku,
    StoreError, TenantId,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

fn to_product(m: product::Model) -> Result<Product, StoreError> {
    let dimensions = match (m.length_mm, m.width_mm, m.height_mm) {
        (Some(l), Some(w), Some(h)) => Some(Dimensions {
            length_mm: l as u32,
            width_mm: w as u32,
            height_mm: h as u32,
        }),
        _ => None,
    };
    let unit_cost = match (m.unit_cost_minor, m.unit_cost_currency) {
        (Some(amount), Some(c)) => Some(Money::new(
            amount,
            Currency::parse(&c).map_err(StoreError::from_source)?,
        )),
        _ => None,
    };
    Ok(Product {
        id: ProductId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        sku: Sku::parse(&m.sku).map_err(StoreError::from_source)?,
        name: m.name,
        barcode: m.barcode,
        weight_grams: m.weight_grams.map(|w| w as u32),
        dimensions,
        unit_cost,
        hs_code: m.hs_code,
        country_of_origin: m.country_of_origin,
        version: m.version,
        created_at: m.created_at,
    })
}

pub(crate) fn to_level(m: stock_level::Model) -> Result<StockLevel, StoreError> {
    Ok(StockLevel {
        sku: Sku::parse(&m.sku).map_err(StoreError::from_source)?,
        on_hand: Quantity::new(m.on_hand).map_err(StoreError::from_source)?,
        reserved: Quantity::new(m.reserved).map_err(StoreError::from_source)?,
        version: m.version,
    })
}

pub(crate) fn movement_row(m: &StockMovement) -> stock_movement::ActiveModel {
    stock_movement::ActiveModel {
        id: Set(m.id.into_uuid()),
        tenant_id: Set(m.tenant_id.into_uuid()),
        sku: Set(m.sku.to_string()),
        kind: Set(m.kind.as_str().to_owned()),
        on_hand_delta: Set(m.on_hand_delta),
        reserved_delta: Set(m.reserved_delta),
        reason: Set(m.reason.clone()),
        reference: Set(m.reference.clone()),
        actor: Set(m.actor.clone()),
        occurred_at: Set(m.occurred_at),
    }
}

#[async_trait]
impl ProductRepository for SqlStore {
    async fn insert(&self, p: &Product) -> Result<(), InventoryError> {
        let tx = self.db.begin().await.map_err(store_err)?;
        let inserted = product::Entity::insert(product::ActiveModel {
            id: Set(p.id.into_uuid()),
            tenant_id: Set(p.tenant_id.into_uuid()),
            sku: Set(p.sku.to_string()),
            name: Set(p.name.clone()),
            barcode: Set(p.barcode.clone()),
            weight_grams: Set(p.weight_grams.map(|w| w as i32)),
            length_mm: Set(p.dimensions.map(|d| d.length_mm as i32)),
            width_mm: Set(p.dimensions.map(|d| d.width_mm as i32)),
            height_mm: Set(p.dimensions.map(|d| d.height_mm as i32)),
            unit_cost_minor: Set(p.unit_cost.map(|m| m.amount_minor)),
            unit_cost_currency: Set(p.unit_cost.map(|m| m.currency.to_string())),
            hs_code: Set(p.hs_code.clone()),
            country_of_origin: Set(p.country_of_origin.clone()),
            version: Set(p.version),
            created_at: Set(p.created_at),
            updated_at: Set(p.created_at),
        })
        .exec_without_returning(&tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(InventoryError::DuplicateSku(p.sku.clone()));
            }
            other => other.map_err(store_err)?,
        };
        // Every product has a stock row from birth, so reservations are a single UPDATE.
        stock_level::Entity::insert(stock_level::ActiveModel {
            tenant_id: Set(p.tenant_id.into_uuid()),
            sku: Set(p.sku.to_string()),
            on_hand: Set(0),
            reserved: Set(0),
            version: Set(1),
            updated_at: Set(p.created_at),
        })
        .exec_without_returning(&tx)
        .await
        .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(())
    }

    async fn get(&self, tenant: TenantId, sku: &Sku) -> Result<Option<Product>, StoreError> {
        product::Entity::find()
            .filter(product::Column::TenantId.eq(tenant.into_uuid()))
            .filter(product::Column::Sku.eq(sku.as_str()))
            .one(&self.db)
            .await
            .map_err(store_err)?
            .map(to_product)
            .transpose()
    }

    async fn list(
        &self,
        tenant: TenantId,
        page: PageRequest<Sku>,
    ) -> Result<Page<Product, Sku>, StoreError> {
        let mut query = product::Entity::find()
            .filter(product::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_asc(product::Column::Sku)
            .limit(u64::from(page.limit) + 1);
        if let Some(after) = &page.after {
            query = query.filter(product::Column::Sku.gt(after.as_str()));
        }
        let rows = query.all(&self.db).await.map_err(store_err)?;
        let items = rows.into_iter().map(to_product).collect::<Result<_, _>>()?;
        Ok(Page::from_overfetch(items, page.limit, |p: &Product| {
            p.sku.clone()
        }))
    }
}

#[async_trait]
impl StockQueries for SqlStore {
    async fn level(&self, tenant: TenantId, sku: &Sku) -> Result<Option<StockLevel>, StoreError> {
        stock_level::Entity::find_by_id((tenant.into_uuid(), sku.to_string()))
            .one(&self.db)
            .await
            .map_err(store_err)?
            .map(to_level)
            .transpose()
    }

    async fn list(
        &self,
        tenant: TenantId,
        page: PageRequest<Sku>,
    ) -> Result<Page<StockLevel, Sku>, StoreError> {
        let mut query = stock_level::Entity::find()
            .filter(stock_level::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_asc(stock_level::Column::Sku)
            .limit(u64::from(page.limit) + 1);
        if let Some(after) = &page.after {
            query = query.filter(stock_level::Column::Sku.gt(after.as_str()));
        }
        let rows = query.all(&self.db).await.map_err(store_err)?;
        let items = rows.into_iter().map(to_level).collect::<Result<_, _>>()?;
        Ok(Page::from_overfetch(items, page.limit, |l: &StockLevel| {
            l.sku.clone()
        }))
    }
}

/// One inventory unit of work: a database transaction scoped to one tenant.
pub struct SqlInventoryTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
}

#[async_trait]
impl InventoryUnitOfWork for SqlStore {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn InventoryTransaction>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        Ok(Box::new(SqlInventoryTx { tx, tenant }))
    }
}

#[async_trait]
impl InventoryTransaction for SqlInventoryTx {
    async fn lock_level(&mut self, sku: &Sku) -> Result<Option<StockLevel>, StoreError> {
        // FOR UPDATE on PostgreSQL; SQLite ignores it, and its single writer needs no lock.
        stock_level::Entity::find_by_id((self.tenant.into_uuid(), sku.to_string()))
            .lock_exclusive()
            .one(&self.tx)
            .await
            .map_err(store_err)?
            .map(to_level)
            .transpose()
    }

    async fn save_level(&mut self, level: &StockLevel) -> Result<(), StoreError> {
        stock_level::Entity::update_many()
            .col_expr(stock_level::Column::OnHand, level.on_hand.as_i64().into())
            .col_expr(
                stock_level::Column::Reserved,
                level.reserved.as_i64().into(),
            )
            .col_expr(stock_level::Column::Version, level.version.into())
            .col_expr(stock_level::Column::UpdatedAt, chrono::Utc::now().into())
            .filter(stock_level::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(stock_level::Column::Sku.eq(level.sku.as_str()))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn record_movement(&mut self, movement: &StockMovement) -> Result<(), StoreError> {
        stock_movement::Entity::insert(movement_row(movement))
            .exec_without_returning(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError> {
        outbox::append(&self.tx, events).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(store_err)
    }
}

impl SqlStore {
    /// A SKU's ledger, oldest first.
    pub async fn movements(
        &self,
        tenant: TenantId,
        sku: &Sku,
    ) -> Result<Vec<StockMovement>, StoreError> {
        let rows = stock_movement::Entity::find()
            .filter(stock_movement::Column::TenantId.eq(tenant.into_uuid()))
            .filter(stock_movement::Column::Sku.eq(sku.as_str()))
            .order_by_asc(stock_movement::Column::Id)
            .all(&self.db)
            .await
            .map_err(store_err)?;
        rows.into_iter()
            .map(|m| {
                Ok(StockMovement {
                    id: MovementId::from_uuid(m.id),
                    tenant_id: TenantId::from_uuid(m.tenant_id),
                    sku: Sku::parse(&m.sku).map_err(StoreError::from_source)?,
                    kind: MovementKind::parse(&m.kind)
                        .ok_or_else(|| StoreError::new(format!("unknown movement {}", m.kind)))?,
                    on_hand_delta: m.on_hand_delta,
                    reserved_delta: m.reserved_delta,
                    reason: m.reason,
                    reference: m.reference,
                    actor: m.actor,
                    occurred_at: m.occurred_at,
                })
            })
            .collect()
    }
}
