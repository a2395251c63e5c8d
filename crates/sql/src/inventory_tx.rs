//! The inventory unit of work: one database transaction confined to one tenant.

use crate::entities::{
    product, reservation_hold, stock_level, stock_movement, stock_transfer, warehouse,
};
use crate::inventory::{movement_row, to_level, to_warehouse, with_components};
use crate::stock::{hold_row, to_hold, to_transfer, transfer_row};
use crate::tx::Tx;
use crate::{SqlStore, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inventory::hold::{Hold, HoldStatus};
use inventory::ports::{InventoryTransaction, InventoryUnitOfWork};
use inventory::transfer::Transfer;
use inventory::{Product, StockDelta, StockLevel, StockMovement, Warehouse};
use kernel::{HoldId, Money, Sku, StoreError, TenantId, TransferId, WarehouseId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub struct SqlInventoryTx {
    // Crate-visible so other units of work (the floor's) can run inventory rules on their
    // own transaction.
    pub(crate) tx: Tx,
    pub(crate) tenant: TenantId,
    pub(crate) read_ahead: crate::stock_ledger::ReadAhead,
}

#[async_trait]
impl InventoryUnitOfWork for SqlStore {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn InventoryTransaction>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        Ok(Box::new(SqlInventoryTx {
            tx,
            tenant,
            read_ahead: Default::default(),
        }))
    }

    async fn claim_expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, HoldId)>, StoreError> {
        // Only ids: each hold is then re-locked and re-checked in its own transaction, so two
        // workers that both see a hold release it once (the second finds it expired already).
        // Across tenants on purpose, like the outbox relay: a deliberate row-security bypass.
        let tx = self.begin_all_tenants().await?;
        let query = reservation_hold::Entity::find()
            .select_only()
            .column(reservation_hold::Column::TenantId)
            .column(reservation_hold::Column::Id)
            .filter(reservation_hold::Column::Status.eq(HoldStatus::Active.as_str()))
            .filter(reservation_hold::Column::ExpiresAt.lte(now))
            .order_by_asc(reservation_hold::Column::ExpiresAt)
            .limit(u64::from(limit));
        let rows: Vec<(uuid::Uuid, uuid::Uuid)> =
            query.into_tuple().all(&tx).await.map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(rows
            .into_iter()
            .map(|(t, h)| (TenantId::from_uuid(t), HoldId::from_uuid(h)))
            .collect())
    }
}

crate::stock_ledger::delegate_stock_ledger!(SqlInventoryTx);

#[async_trait]
impl InventoryTransaction for SqlInventoryTx {
    async fn lock_level(
        &mut self,
        warehouse: WarehouseId,
        sku: &Sku,
    ) -> Result<Option<StockLevel>, StoreError> {
        // FOR UPDATE on PostgreSQL; SQLite ignores it, and its single writer needs no lock.
        stock_level::Entity::find_by_id((
            self.tenant.into_uuid(),
            sku.to_string(),
            warehouse.into_uuid(),
        ))
        .lock_exclusive()
        .one(&self.tx)
        .await
        .map_err(store_err)?
        .map(to_level)
        .transpose()
    }

    async fn save_level(&mut self, level: &StockLevel) -> Result<(), StoreError> {
        let figures = StockDelta {
            on_hand: level.on_hand.as_i64(),
            reserved: level.reserved.as_i64(),
            incoming: level.incoming.as_i64(),
        };
        upsert_level(
            &self.tx,
            self.tenant,
            level.warehouse_id,
            &level.sku,
            figures,
            level.version,
        )
        .await
    }

    async fn record_movement(&mut self, movement: &StockMovement) -> Result<(), StoreError> {
        stock_movement::Entity::insert(movement_row(movement))
            .exec_without_returning(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn lock_product(&mut self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let row = product::Entity::find()
            .filter(product::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(product::Column::Sku.eq(sku.as_str()))
            .lock_exclusive()
            .one(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(
            with_components(&self.tx, self.tenant, row.into_iter().collect())
                .await?
                .pop(),
        )
    }

    async fn find_warehouse(
        &mut self,
        code: Option<String>,
    ) -> Result<Option<Warehouse>, StoreError> {
        let mut query = warehouse::Entity::find()
            .filter(warehouse::Column::TenantId.eq(self.tenant.into_uuid()));
        query = match code {
            Some(code) => query.filter(warehouse::Column::Code.eq(code)),
            None => query.filter(warehouse::Column::IsDefault.eq(true)),
        };
        query
            .one(&self.tx)
            .await
            .map_err(store_err)?
            .map(to_warehouse)
            .transpose()
    }

    async fn save_average_cost(&mut self, sku: &Sku, cost: Money) -> Result<(), StoreError> {
        product::Entity::update_many()
            .col_expr(product::Column::AverageCostMinor, cost.amount_minor.into())
            .col_expr(
                product::Column::AverageCostCurrency,
                cost.currency.to_string().into(),
            )
            .filter(product::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(product::Column::Sku.eq(sku.as_str()))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn insert_hold(&mut self, hold: &Hold) -> Result<(), StoreError> {
        reservation_hold::Entity::insert(hold_row(hold)?)
            .exec_without_returning(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn lock_hold(&mut self, id: HoldId) -> Result<Option<Hold>, StoreError> {
        lock_hold(&self.tx, self.tenant, id).await
    }

    async fn save_hold(&mut self, hold: &Hold) -> Result<(), StoreError> {
        save_hold(&self.tx, hold).await
    }

    async fn insert_transfer(&mut self, transfer: &Transfer) -> Result<(), StoreError> {
        stock_transfer::Entity::insert(transfer_row(transfer)?)
            .exec_without_returning(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn lock_transfer(&mut self, id: TransferId) -> Result<Option<Transfer>, StoreError> {
        stock_transfer::Entity::find_by_id(id.into_uuid())
            .filter(stock_transfer::Column::TenantId.eq(self.tenant.into_uuid()))
            .lock_exclusive()
            .one(&self.tx)
            .await
            .map_err(store_err)?
            .map(to_transfer)
            .transpose()
    }

    async fn save_transfer(&mut self, transfer: &Transfer) -> Result<(), StoreError> {
        stock_transfer::Entity::update(transfer_row(transfer)?)
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn overwrite_level(
        &mut self,
        warehouse: WarehouseId,
        sku: &Sku,
        sums: StockDelta,
    ) -> Result<(), StoreError> {
        let current = self.lock_level(warehouse, sku).await?;
        let version = current.map_or(1, |l| l.version + 1);
        upsert_level(&self.tx, self.tenant, warehouse, sku, sums, version).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(store_err)
    }
}

pub(crate) async fn lock_hold(
    tx: &Tx,
    tenant: TenantId,
    id: HoldId,
) -> Result<Option<Hold>, StoreError> {
    reservation_hold::Entity::find_by_id(id.into_uuid())
        .filter(reservation_hold::Column::TenantId.eq(tenant.into_uuid()))
        .lock_exclusive()
        .one(tx)
        .await
        .map_err(store_err)?
        .map(to_hold)
        .transpose()
}

pub(crate) async fn save_hold(tx: &Tx, hold: &Hold) -> Result<(), StoreError> {
    reservation_hold::Entity::update(hold_row(hold)?)
        .exec(tx)
        .await
        .map_err(store_err)?;
    Ok(())
}

/// Inserts a stock level or overwrites its figures and version.
async fn upsert_level(
    tx: &Tx,
    tenant: TenantId,
    warehouse: WarehouseId,
    sku: &Sku,
    figures: StockDelta,
    version: i64,
) -> Result<(), StoreError> {
    stock_level::Entity::insert(stock_level::ActiveModel {
        tenant_id: Set(tenant.into_uuid()),
        sku: Set(sku.to_string()),
        warehouse_id: Set(warehouse.into_uuid()),
        on_hand: Set(figures.on_hand),
        reserved: Set(figures.reserved),
        incoming: Set(figures.incoming),
        version: Set(version),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            stock_level::Column::TenantId,
            stock_level::Column::Sku,
            stock_level::Column::WarehouseId,
        ])
        .update_columns([
            stock_level::Column::OnHand,
            stock_level::Column::Reserved,
            stock_level::Column::Incoming,
            stock_level::Column::Version,
            stock_level::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(tx)
    .await
    .map_err(store_err)?;
    Ok(())
}
