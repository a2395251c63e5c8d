//! The receiving, cycle count and QC unit of work (`warehouse::InboundUnitOfWork`): one
//! tenant-confined transaction holding inbound shipments, put-away details, counts,
//! checklists, inspections, quarantines, bin stock and warehouse tasks, and running the
//! inventory crate's floor stock rules (`inventory::service::floor`) on the same transaction,
//! so a closed ASN and its receipts, a count and its adjustments, a quarantine and its
//! reservation commit together with their ledger movements and outbox events.

use crate::entities::{idempotency_record, product, warehouse};
use crate::floor_entities::{bin, bin_stock, task_row, to_task, warehouse_task};
use crate::inventory::{bad, to_warehouse};
use crate::inventory_tx::SqlInventoryTx;
use crate::tx::Tx;
use crate::{SqlStore, outbox, store_err};
use ::warehouse::{
    BinCode, CountStatus, CycleCount, FloorWarehouse, IdempotencyClaim, IdempotencyKey,
    InboundLine, InboundShipment, InboundStatus, InboundTransaction, InboundUnitOfWork, Inspection,
    PutAwayTask, QcChecklist, QcOutcome, QcResult, QcStage, Quarantine, QuarantineRecord,
    QuarantineStatus, ReceiveProgress, StockEffectError, TaskKind, WarehouseTask,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use inventory::InventoryError;
use inventory::service::floor;
use kernel::{
    EventEnvelope, Page, PageRequest, Quantity, RequestContext, Sku, StoreError, TenantId,
    WarehouseId,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

/// Table models of migration 000015.
pub mod entities;

use entities::{cycle_count, inbound_shipment, put_away_task, qc_checklist, qc_result, quarantine};

const BODY_VERSION: i64 = 1;

pub struct SqlInboundTx {
    inv: SqlInventoryTx,
}

impl SqlInboundTx {
    fn tx(&self) -> &Tx {
        &self.inv.tx
    }
    fn tenant(&self) -> Uuid {
        self.inv.tenant.into_uuid()
    }

    async fn inventory_warehouse(
        &self,
        id: WarehouseId,
    ) -> Result<inventory::Warehouse, StockEffectError> {
        let row = warehouse::Entity::find_by_id(id.into_uuid())
            .filter(warehouse::Column::TenantId.eq(self.tenant()))
            .one(self.tx())
            .await
            .map_err(store_err)?
            .ok_or_else(|| StockEffectError::Refused {
                code: "unknown-warehouse",
                detail: format!("no warehouse {id}"),
            })?;
        Ok(to_warehouse(row)?)
    }
}

#[async_trait]
impl InboundUnitOfWork for SqlStore {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn InboundTransaction>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        Ok(Box::new(SqlInboundTx {
            inv: SqlInventoryTx {
                tx,
                tenant,
                read_ahead: Default::default(),
            },
        }))
    }
}

impl SqlStore {
    /// Creates a bin in the tenant's warehouse `warehouse_code` with optional book stock
    /// `(sku, quantity, preferred)`; returns its id. For seeding and tests until bins have
    /// their own routes. Errors: `StoreError` (unknown warehouse, duplicate code, ...).
    pub async fn seed_bin(
        &self,
        tenant: TenantId,
        warehouse_code: &str,
        code: &str,
        walk_order: i64,
        stock: &[(&str, i64, bool)],
    ) -> Result<Uuid, StoreError> {
        let code = BinCode::parse(code).map_err(bad)?;
        let tx = self.begin_tenant(tenant).await?;
        let w = warehouse::Entity::find()
            .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse::Column::Code.eq(warehouse_code.to_ascii_uppercase()))
            .one(&tx)
            .await
            .map_err(store_err)?
            .ok_or_else(|| StoreError::new(format!("no warehouse {warehouse_code}")))?;
        tx.commit().await.map_err(store_err)?;
        // Writes only from here: on SQLite a transaction that read first cannot always take
        // the write lock while the app writes (it would fail with "database is locked").
        let tx = self.begin_tenant(tenant).await?;
        let id = Uuid::now_v7();
        bin::Entity::insert(bin::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant.into_uuid()),
            warehouse_id: Set(w.id),
            code: Set(code.to_string()),
            zone: Set(code.zone().to_owned()),
            walk_order: Set(walk_order),
            created_at: Set(Utc::now()),
        })
        .exec_without_returning(&tx)
        .await
        .map_err(store_err)?;
        for (sku, quantity, preferred) in stock {
            bin_stock::Entity::insert(bin_stock::ActiveModel {
                tenant_id: Set(tenant.into_uuid()),
                bin_id: Set(id),
                sku: Set(Sku::parse(sku).map_err(bad)?.to_string()),
                quantity: Set(*quantity),
                preferred: Set(*preferred),
                updated_at: Set(Utc::now()),
            })
            .exec_without_returning(&tx)
            .await
            .map_err(store_err)?;
        }
        tx.commit().await.map_err(store_err)?;
        Ok(id)
    }
}

mod rows;
mod transaction;

use rows::*;
