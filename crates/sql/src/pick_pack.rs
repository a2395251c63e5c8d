//! Pick and pack on the floor: the floor unit of work (pick lists and pack sessions as JSON
//! bodies with a version, bin stock moved by scans, pick tasks), bin stock for planning, and
//! the floor's reads and small writes (bins, put-away, boxes, tasks). Every query runs in a
//! tenant transaction ([`SqlStore::begin_tenant`]).

use crate::entities::{product, stock_allocation, warehouse as warehouse_row};
use crate::floor_entities::{bin, bin_stock, box_type, warehouse_task};
use crate::{SqlStore, is_unique_violation, outbox, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{
    Currency, EventEnvelope, Money, OrderId, Quantity, Sku, StoreError, TenantId, WarehouseId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;
use warehouse::{
    AppliedScan, Bin, BinCode, BinStock, BinStockReader, BoxType, CycleCount, FloorTransaction,
    FloorUnitOfWork, InboundShipment, PackItem, PackProgress, PackSession, PackStatus, PickLine,
    PickList, PickStatus, PutAwayError, TaskError, TaskKind, TaskStatus, Unallocated,
    WarehouseTask, claim_next,
};

/// Tables of migration 000014.
pub mod entities {
    pub mod pick_list {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "pick_lists")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub tenant_id: Uuid,
            pub warehouse_id: Uuid,
            pub status: String,
            pub body: Json,
            pub version: i64,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod pack_session {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "pack_sessions")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub tenant_id: Uuid,
            pub order_id: Uuid,
            pub status: String,
            pub body: Json,
            pub version: i64,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entities::{pack_session, pick_list};

fn bad(what: &str) -> StoreError {
    StoreError::new(format!("stored floor row has a bad {what}"))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::from_source(e)
}

// ---- JSON bodies -------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct BinBody {
    code: String,
    warehouse: Uuid,
    zone: String,
    walk_order: u32,
}

impl From<&Bin> for BinBody {
    fn from(b: &Bin) -> Self {
        Self {
            code: b.code.to_string(),
            warehouse: b.warehouse.into_uuid(),
            zone: b.zone.clone(),
            walk_order: b.walk_order,
        }
    }
}

impl BinBody {
    fn into_bin(self) -> Result<Bin, StoreError> {
        Ok(Bin {
            code: BinCode::parse(&self.code).map_err(|_| bad("bin code"))?,
            warehouse: WarehouseId::from_uuid(self.warehouse),
            zone: self.zone,
            walk_order: self.walk_order,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct AllocationBody {
    order_id: OrderId,
    line_no: u32,
    quantity: Quantity,
}

fn allocations_body(a: &[warehouse::Allocation]) -> Vec<AllocationBody> {
    a.iter()
        .map(|a| AllocationBody {
            order_id: a.order_id,
            line_no: a.line_no,
            quantity: a.quantity,
        })
        .collect()
}

fn allocations_of_body(a: Vec<AllocationBody>) -> Vec<warehouse::Allocation> {
    a.into_iter()
        .map(|a| warehouse::Allocation {
            order_id: a.order_id,
            line_no: a.line_no,
            quantity: a.quantity,
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
struct LineBody {
    seq: u32,
    bin: BinBody,
    sku: Sku,
    barcode: Option<String>,
    quantity: Quantity,
    picked: Quantity,
    short: Quantity,
    allocations: Vec<AllocationBody>,
}

#[derive(Serialize, Deserialize)]
struct UnallocatedBody {
    sku: Sku,
    missing: Quantity,
    affected: Vec<AllocationBody>,
}

#[derive(Serialize, Deserialize)]
struct ScanBody {
    scan_id: Uuid,
    line_seq: u32,
    quantity: Quantity,
    at: DateTime<Utc>,
    next_seq: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct PickListBody {
    orders: Vec<OrderId>,
    lines: Vec<LineBody>,
    unallocated: Vec<UnallocatedBody>,
    scans: Vec<ScanBody>,
    completed_at: Option<DateTime<Utc>>,
}

fn pick_list_body(list: &PickList) -> Result<serde_json::Value, StoreError> {
    let body = PickListBody {
        orders: list.orders().to_vec(),
        lines: list
            .lines()
            .iter()
            .map(|l| LineBody {
                seq: l.seq,
                bin: (&l.bin).into(),
                sku: l.sku.clone(),
                barcode: l.barcode.clone(),
                quantity: l.quantity,
                picked: l.picked,
                short: l.short,
                allocations: allocations_body(&l.allocations),
            })
            .collect(),
        unallocated: list
            .unallocated()
            .iter()
            .map(|u| UnallocatedBody {
                sku: u.sku.clone(),
                missing: u.missing,
                affected: allocations_body(&u.affected),
            })
            .collect(),
        scans: list
            .scans()
            .into_iter()
            .map(|s| ScanBody {
                scan_id: s.scan_id,
                line_seq: s.line_seq,
                quantity: s.quantity,
                at: s.at,
                next_seq: s.next_seq,
            })
            .collect(),
        completed_at: list.completed_at(),
    };
    serde_json::to_value(body).map_err(json_err)
}

fn to_pick_list(m: pick_list::Model) -> Result<PickList, StoreError> {
    let body: PickListBody = serde_json::from_value(m.body).map_err(json_err)?;
    let lines = body
        .lines
        .into_iter()
        .map(|l| {
            Ok(PickLine {
                seq: l.seq,
                bin: l.bin.into_bin()?,
                sku: l.sku,
                barcode: l.barcode,
                quantity: l.quantity,
                picked: l.picked,
                short: l.short,
                allocations: allocations_of_body(l.allocations),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(PickList::restore(
        m.id,
        PickStatus::parse(&m.status).ok_or_else(|| bad("status"))?,
        body.orders,
        lines,
        body.unallocated
            .into_iter()
            .map(|u| Unallocated {
                sku: u.sku,
                missing: u.missing,
                affected: allocations_of_body(u.affected),
            })
            .collect(),
        body.scans
            .into_iter()
            .map(|s| AppliedScan {
                scan_id: s.scan_id,
                line_seq: s.line_seq,
                quantity: s.quantity,
                at: s.at,
                next_seq: s.next_seq,
            })
            .collect(),
        m.version,
        m.created_at,
        body.completed_at,
    ))
}

#[derive(Serialize, Deserialize)]
struct PackItemBody {
    sku: Sku,
    barcode: Option<String>,
    expected: Quantity,
    scanned: Quantity,
}

#[derive(Serialize, Deserialize)]
struct PackScanBody {
    scan_id: Uuid,
    sku: Sku,
    remaining: Quantity,
    remaining_total: u64,
}

#[derive(Serialize, Deserialize)]
struct PackSessionBody {
    items: Vec<PackItemBody>,
    scans: Vec<PackScanBody>,
    box_code: Option<String>,
    weight_g: Option<u32>,
    packed_at: Option<DateTime<Utc>>,
}

fn pack_session_body(s: &PackSession) -> Result<serde_json::Value, StoreError> {
    let mut scans: Vec<PackScanBody> = s
        .scans()
        .map(|(id, p)| PackScanBody {
            scan_id: *id,
            sku: p.sku.clone(),
            remaining: p.remaining,
            remaining_total: p.remaining_total,
        })
        .collect();
    scans.sort_by_key(|s| s.scan_id);
    let body = PackSessionBody {
        items: s
            .items()
            .iter()
            .map(|i| PackItemBody {
                sku: i.sku.clone(),
                barcode: i.barcode.clone(),
                expected: i.expected,
                scanned: i.scanned,
            })
            .collect(),
        scans,
        box_code: s.box_code().map(str::to_owned),
        weight_g: s.weight_g(),
        packed_at: s.packed_at(),
    };
    serde_json::to_value(body).map_err(json_err)
}

fn to_pack_session(m: pack_session::Model) -> Result<PackSession, StoreError> {
    let body: PackSessionBody = serde_json::from_value(m.body).map_err(json_err)?;
    Ok(PackSession::restore(
        m.id,
        OrderId::from_uuid(m.order_id),
        PackStatus::parse(&m.status).ok_or_else(|| bad("status"))?,
        body.items
            .into_iter()
            .map(|i| PackItem {
                sku: i.sku,
                barcode: i.barcode,
                expected: i.expected,
                scanned: i.scanned,
            })
            .collect(),
        body.scans
            .into_iter()
            .map(|s| {
                (
                    s.scan_id,
                    PackProgress {
                        sku: s.sku,
                        remaining: s.remaining,
                        remaining_total: s.remaining_total,
                    },
                )
            })
            .collect(),
        body.box_code,
        body.weight_g,
        m.version,
        body.packed_at,
    ))
}

fn task_row(t: &WarehouseTask) -> warehouse_task::ActiveModel {
    warehouse_task::ActiveModel {
        id: Set(t.id),
        tenant_id: Set(t.tenant_id.into_uuid()),
        warehouse_id: Set(t.warehouse.into_uuid()),
        kind: Set(t.kind.as_str().to_owned()),
        status: Set(t.status.as_str().to_owned()),
        reference: Set(t.reference.clone()),
        assignee: Set(t.assignee.clone()),
        ship_by: Set(t.ship_by),
        created_at: Set(t.created_at),
        started_at: Set(t.started_at),
        completed_at: Set(t.completed_at),
    }
}

fn to_task(m: warehouse_task::Model) -> Result<WarehouseTask, StoreError> {
    Ok(WarehouseTask {
        id: m.id,
        tenant_id: TenantId::from_uuid(m.tenant_id),
        warehouse: WarehouseId::from_uuid(m.warehouse_id),
        kind: TaskKind::parse(&m.kind).ok_or_else(|| bad("task kind"))?,
        status: TaskStatus::parse(&m.status).ok_or_else(|| bad("task status"))?,
        reference: m.reference,
        assignee: m.assignee,
        ship_by: m.ship_by,
        created_at: m.created_at,
        started_at: m.started_at,
        completed_at: m.completed_at,
    })
}

fn to_box(m: box_type::Model) -> Result<BoxType, StoreError> {
    let dim = |v: i64| u32::try_from(v).map_err(|_| bad("box dimension"));
    Ok(BoxType {
        code: m.code,
        length_mm: dim(m.length_mm)?,
        width_mm: dim(m.width_mm)?,
        height_mm: dim(m.height_mm)?,
        max_weight_g: dim(m.max_weight_g)?,
        cost: Money::new(
            m.cost_minor,
            Currency::parse(&m.currency).map_err(|_| bad("currency"))?,
        ),
    })
}

fn to_bin(m: &bin::Model) -> Result<Bin, StoreError> {
    Ok(Bin {
        code: BinCode::parse(&m.code).map_err(|_| bad("bin code"))?,
        warehouse: WarehouseId::from_uuid(m.warehouse_id),
        zone: m.zone.clone(),
        walk_order: u32::try_from(m.walk_order).map_err(|_| bad("walk order"))?,
    })
}

async fn find_bin(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    warehouse: WarehouseId,
    code: &BinCode,
) -> Result<Option<bin::Model>, StoreError> {
    bin::Entity::find()
        .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
        .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
        .filter(bin::Column::Code.eq(code.as_str()))
        .one(tx)
        .await
        .map_err(store_err)
}

// ---- the floor unit of work --------------------------------------------------------------

/// One floor unit of work: a database transaction scoped to one tenant.
pub struct SqlFloorTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
}

#[async_trait]
impl FloorUnitOfWork for SqlStore {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn FloorTransaction>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        Ok(Box::new(SqlFloorTx { tx, tenant }))
    }
}

#[async_trait]
impl FloorTransaction for SqlFloorTx {
    async fn insert_pick_list(&mut self, list: &PickList) -> Result<(), StoreError> {
        let warehouse = list
            .lines()
            .first()
            .map(|l| l.bin.warehouse.into_uuid())
            .unwrap_or_default();
        pick_list::Entity::insert(pick_list::ActiveModel {
            id: Set(list.id()),
            tenant_id: Set(self.tenant.into_uuid()),
            warehouse_id: Set(warehouse),
            status: Set(list.status().as_str().to_owned()),
            body: Set(pick_list_body(list)?),
            version: Set(list.version()),
            created_at: Set(list.created_at()),
            updated_at: Set(list.created_at()),
        })
        .exec_without_returning(&self.tx)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn lock_pick_list(&mut self, id: Uuid) -> Result<Option<PickList>, StoreError> {
        pick_list::Entity::find_by_id(id)
            .filter(pick_list::Column::TenantId.eq(self.tenant.into_uuid()))
            .lock_exclusive()
            .one(&self.tx)
            .await
            .map_err(store_err)?
            .map(to_pick_list)
            .transpose()
    }

    async fn save_pick_list(&mut self, list: &PickList) -> Result<(), StoreError> {
        let now = list
            .completed_at()
            .unwrap_or_else(Utc::now)
            .max(list.created_at());
        let result = pick_list::Entity::update_many()
            .col_expr(pick_list::Column::Status, list.status().as_str().into())
            .col_expr(pick_list::Column::Body, pick_list_body(list)?.into())
            .col_expr(pick_list::Column::Version, list.version().into())
            .col_expr(pick_list::Column::UpdatedAt, Utc::now().max(now).into())
            .filter(pick_list::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(pick_list::Column::Id.eq(list.id()))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        if result.rows_affected != 1 {
            return Err(StoreError::new("saved a pick list that is not stored"));
        }
        Ok(())
    }

    async fn insert_pack_session(&mut self, session: &PackSession) -> Result<(), StoreError> {
        let now = Utc::now();
        pack_session::Entity::insert(pack_session::ActiveModel {
            id: Set(session.id()),
            tenant_id: Set(self.tenant.into_uuid()),
            order_id: Set(session.order_id().into_uuid()),
            status: Set(session.status().as_str().to_owned()),
            body: Set(pack_session_body(session)?),
            version: Set(session.version()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&self.tx)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn lock_pack_session(&mut self, id: Uuid) -> Result<Option<PackSession>, StoreError> {
        pack_session::Entity::find_by_id(id)
            .filter(pack_session::Column::TenantId.eq(self.tenant.into_uuid()))
            .lock_exclusive()
            .one(&self.tx)
            .await
            .map_err(store_err)?
            .map(to_pack_session)
            .transpose()
    }

    async fn save_pack_session(&mut self, session: &PackSession) -> Result<(), StoreError> {
        let result = pack_session::Entity::update_many()
            .col_expr(
                pack_session::Column::Status,
                session.status().as_str().into(),
            )
            .col_expr(
                pack_session::Column::Body,
                pack_session_body(session)?.into(),
            )
            .col_expr(pack_session::Column::Version, session.version().into())
            .col_expr(pack_session::Column::UpdatedAt, Utc::now().into())
            .filter(pack_session::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(pack_session::Column::Id.eq(session.id()))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        if result.rows_affected != 1 {
            return Err(StoreError::new("saved a pack session that is not stored"));
        }
        Ok(())
    }

    /// Receiving is not stored yet: no inbound shipment exists.
    async fn lock_inbound(&mut self, _id: Uuid) -> Result<Option<InboundShipment>, StoreError> {
        Ok(None)
    }

    async fn save_inbound(&mut self, _shipment: &InboundShipment) -> Result<(), StoreError> {
        Err(StoreError::new("inbound shipments are not stored yet"))
    }

    /// Cycle counts are not stored yet: no count exists.
    async fn lock_count(&mut self, _id: Uuid) -> Result<Option<CycleCount>, StoreError> {
        Ok(None)
    }

    async fn save_count(&mut self, _count: &CycleCount) -> Result<(), StoreError> {
        Err(StoreError::new("cycle counts are not stored yet"))
    }

    async fn take_from_bin(
        &mut self,
        bin_ref: &Bin,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<(), StoreError> {
        let Some(row) = find_bin(&self.tx, self.tenant, bin_ref.warehouse, &bin_ref.code).await?
        else {
            return Ok(());
        };
        let n = quantity.as_i64();
        let scoped = || {
            bin_stock::Entity::update_many()
                .col_expr(bin_stock::Column::UpdatedAt, Utc::now().into())
                .filter(bin_stock::Column::TenantId.eq(self.tenant.into_uuid()))
                .filter(bin_stock::Column::BinId.eq(row.id))
                .filter(bin_stock::Column::Sku.eq(sku.as_str()))
        };
        let taken = scoped()
            .col_expr(
                bin_stock::Column::Quantity,
                Expr::col(bin_stock::Column::Quantity).sub(n),
            )
            .filter(bin_stock::Column::Quantity.gte(n))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        if taken.rows_affected == 0 {
            // The bin held fewer than that: it is empty now.
            scoped()
                .col_expr(bin_stock::Column::Quantity, Expr::value(0i64))
                .exec(&self.tx)
                .await
                .map_err(store_err)?;
        }
        Ok(())
    }

    async fn insert_task(&mut self, task: &WarehouseTask) -> Result<(), StoreError> {
        warehouse_task::Entity::insert(task_row(task))
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

#[async_trait]
impl BinStockReader for SqlStore {
    async fn bin_stock(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
        skus: &[Sku],
    ) -> Result<Vec<BinStock>, StoreError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.begin_tenant(tenant).await?;
        let bins: HashMap<Uuid, bin::Model> = bin::Entity::find()
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        if bins.is_empty() {
            return Ok(Vec::new());
        }
        let rows = bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin_stock::Column::BinId.is_in(bins.keys().copied()))
            .filter(bin_stock::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
            .filter(bin_stock::Column::Quantity.gt(0))
            .all(&tx)
            .await
            .map_err(store_err)?;
        let barcodes = barcodes(&tx, tenant, skus).await?;
        let planned = planned_on_open_lists(&tx, tenant, warehouse).await?;
        tx.commit().await.map_err(store_err)?;
        let mut stock = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(b) = bins.get(&r.bin_id) else {
                continue;
            };
            let free = r.quantity
                - planned
                    .get(&(b.code.clone(), r.sku.clone()))
                    .copied()
                    .unwrap_or(0);
            if free <= 0 {
                continue;
            }
            stock.push(BinStock {
                sku: Sku::parse(&r.sku).map_err(|_| bad("sku"))?,
                bin: to_bin(b)?,
                barcode: barcodes.get(&r.sku).cloned().flatten(),
                on_hand: Quantity::new(free).map_err(|_| bad("quantity"))?,
                preferred: r.preferred,
            });
        }
        Ok(stock)
    }
}

/// Units that pick lists not yet complete still plan to take, per (bin code, SKU): bin stock
/// leaves only when scanned, so a new plan must not count on them again.
async fn planned_on_open_lists(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    warehouse: WarehouseId,
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let open = pick_list::Entity::find()
        .filter(pick_list::Column::TenantId.eq(tenant.into_uuid()))
        .filter(pick_list::Column::WarehouseId.eq(warehouse.into_uuid()))
        .filter(pick_list::Column::Status.ne(PickStatus::Complete.as_str()))
        .all(tx)
        .await
        .map_err(store_err)?;
    let mut planned: HashMap<(String, String), i64> = HashMap::new();
    for row in open {
        for line in to_pick_list(row)?.lines() {
            *planned
                .entry((line.bin.code.to_string(), line.sku.to_string()))
                .or_default() += line.remaining().as_i64();
        }
    }
    Ok(planned)
}

async fn barcodes(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<HashMap<String, Option<String>>, StoreError> {
    let rows: Vec<(String, Option<String>)> = product::Entity::find()
        .select_only()
        .column(product::Column::Sku)
        .column(product::Column::Barcode)
        .filter(product::Column::TenantId.eq(tenant.into_uuid()))
        .filter(product::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
        .into_tuple()
        .all(tx)
        .await
        .map_err(store_err)?;
    Ok(rows.into_iter().collect())
}

// ---- reads and small writes of the floor -------------------------------------------------

/// Why units could not be put away.
#[derive(Debug)]
pub enum PutAwayFailure {
    /// No bin with this code in the warehouse.
    UnknownBin(String),
    ExceedsOnHand(PutAwayError),
    Store(StoreError),
}

impl From<StoreError> for PutAwayFailure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<PutAwayError> for PutAwayFailure {
    fn from(e: PutAwayError) -> Self {
        Self::ExceedsOnHand(e)
    }
}

/// One bin's units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinHolding {
    pub warehouse_code: String,
    pub bin: Bin,
    pub sku: Sku,
    pub quantity: i64,
    pub preferred: bool,
}

/// One unit of an order's reservations: `(line_no, sku, warehouse, units)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAllocation {
    pub order_id: OrderId,
    pub line_no: u32,
    pub sku: Sku,
    pub warehouse: WarehouseId,
    pub quantity: Quantity,
}

impl SqlStore {
    /// The tenant's warehouse with this code (trimmed, any case): its id and stored code.
    pub async fn warehouse_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<(WarehouseId, String)>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = warehouse_row::Entity::find()
            .filter(warehouse_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse_row::Column::Code.eq(code.trim().to_ascii_uppercase()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(row.map(|w| (WarehouseId::from_uuid(w.id), w.code)))
    }

    /// Adds a bin; `Ok(false)` when the warehouse already has a bin with that code.
    pub async fn create_bin(
        &self,
        tenant: TenantId,
        b: &Bin,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let inserted = bin::Entity::insert(bin::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.into_uuid()),
            warehouse_id: Set(b.warehouse.into_uuid()),
            code: Set(b.code.to_string()),
            zone: Set(b.zone.clone()),
            walk_order: Set(i64::from(b.walk_order)),
            created_at: Set(now),
        })
        .exec_without_returning(&tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Ok(false),
            other => other.map_err(store_err)?,
        };
        tx.commit().await.map_err(store_err)?;
        Ok(true)
    }

    /// A warehouse's bins in walk order.
    pub async fn bins(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
    ) -> Result<Vec<Bin>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = bin::Entity::find()
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .order_by_asc(bin::Column::WalkOrder)
            .order_by_asc(bin::Column::Code)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.iter().map(to_bin).collect()
    }

    /// Places `quantity` units of `sku` in a bin (marking it the SKU's home bin if
    /// `preferred`). Refused when the SKU's units in the warehouse's bins would exceed its on
    /// hand there ([`warehouse::check_put_away`]); the stock row is locked meanwhile, so two
    /// put-aways cannot together exceed it. Returns what the bin now holds.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_away(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
        code: &BinCode,
        sku: &Sku,
        quantity: Quantity,
        preferred: bool,
        now: DateTime<Utc>,
    ) -> Result<i64, PutAwayFailure> {
        let tx = self.begin_tenant(tenant).await?;
        let Some(target) = find_bin(&tx, tenant, warehouse, code).await? else {
            return Err(PutAwayFailure::UnknownBin(code.to_string()));
        };
        let on_hand = crate::stock_ledger::lock_stock(&tx, tenant, std::slice::from_ref(sku))
            .await?
            .into_iter()
            .find(|r| r.warehouse_id == warehouse)
            .map(|r| r.on_hand)
            .unwrap_or(0);
        let bin_ids: Vec<Uuid> = bin::Entity::find()
            .select_only()
            .column(bin::Column::Id)
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .into_tuple()
            .all(&tx)
            .await
            .map_err(store_err)?;
        let held = bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin_stock::Column::Sku.eq(sku.as_str()))
            .filter(bin_stock::Column::BinId.is_in(bin_ids))
            .all(&tx)
            .await
            .map_err(store_err)?;
        let in_bins: i64 = held.iter().map(|r| r.quantity).sum();
        warehouse::check_put_away(on_hand, in_bins, quantity)?;
        let existing = held.iter().find(|r| r.bin_id == target.id);
        let total = existing.map_or(0, |r| r.quantity) + quantity.as_i64();
        match existing {
            Some(row) => {
                bin_stock::Entity::update_many()
                    .col_expr(bin_stock::Column::Quantity, total.into())
                    .col_expr(
                        bin_stock::Column::Preferred,
                        (row.preferred || preferred).into(),
                    )
                    .col_expr(bin_stock::Column::UpdatedAt, now.into())
                    .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
                    .filter(bin_stock::Column::BinId.eq(target.id))
                    .filter(bin_stock::Column::Sku.eq(sku.as_str()))
                    .exec(&tx)
                    .await
                    .map_err(store_err)?;
            }
            None => {
                bin_stock::Entity::insert(bin_stock::ActiveModel {
                    tenant_id: Set(tenant.into_uuid()),
                    bin_id: Set(target.id),
                    sku: Set(sku.to_string()),
                    quantity: Set(total),
                    preferred: Set(preferred),
                    updated_at: Set(now),
                })
                .exec_without_returning(&tx)
                .await
                .map_err(store_err)?;
            }
        }
        tx.commit().await.map_err(store_err)?;
        Ok(total)
    }

    /// Every bin holding units of `sku` (with zero-unit rows left out), in warehouse code
    /// then walk order.
    pub async fn bins_of_sku(
        &self,
        tenant: TenantId,
        sku: &Sku,
    ) -> Result<Vec<BinHolding>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin_stock::Column::Sku.eq(sku.as_str()))
            .filter(bin_stock::Column::Quantity.gt(0))
            .all(&tx)
            .await
            .map_err(store_err)?;
        let bins: HashMap<Uuid, bin::Model> = bin::Entity::find()
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::Id.is_in(rows.iter().map(|r| r.bin_id)))
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        let codes: HashMap<Uuid, String> = warehouse_row::Entity::find()
            .filter(warehouse_row::Column::TenantId.eq(tenant.into_uuid()))
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|w| (w.id, w.code))
            .collect();
        tx.commit().await.map_err(store_err)?;
        let mut out = rows
            .into_iter()
            .filter_map(|r| bins.get(&r.bin_id).map(|b| (r, b)))
            .map(|(r, b)| {
                Ok(BinHolding {
                    warehouse_code: codes.get(&b.warehouse_id).cloned().unwrap_or_default(),
                    bin: to_bin(b)?,
                    sku: sku.clone(),
                    quantity: r.quantity,
                    preferred: r.preferred,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| {
            a.warehouse_code
                .cmp(&b.warehouse_code)
                .then_with(|| a.bin.walk_cmp(&b.bin))
        });
        Ok(out)
    }

    /// Adds a box to the tenant's catalogue; `Ok(false)` when the code is taken.
    pub async fn create_box(
        &self,
        tenant: TenantId,
        b: &BoxType,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let inserted = box_type::Entity::insert(box_type::ActiveModel {
            tenant_id: Set(tenant.into_uuid()),
            code: Set(b.code.clone()),
            length_mm: Set(i64::from(b.length_mm)),
            width_mm: Set(i64::from(b.width_mm)),
            height_mm: Set(i64::from(b.height_mm)),
            max_weight_g: Set(i64::from(b.max_weight_g)),
            cost_minor: Set(b.cost.amount_minor),
            currency: Set(b.cost.currency.to_string()),
            created_at: Set(now),
        })
        .exec_without_returning(&tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Ok(false),
            other => other.map_err(store_err)?,
        };
        tx.commit().await.map_err(store_err)?;
        Ok(true)
    }

    /// The tenant's boxes, by code.
    pub async fn boxes(&self, tenant: TenantId) -> Result<Vec<BoxType>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = box_type::Entity::find()
            .filter(box_type::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_asc(box_type::Column::Code)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.into_iter().map(to_box).collect()
    }

    pub async fn pick_list(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<PickList>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = pick_list::Entity::find_by_id(id)
            .filter(pick_list::Column::TenantId.eq(tenant.into_uuid()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_pick_list).transpose()
    }

    pub async fn pack_session(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<PackSession>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = pack_session::Entity::find_by_id(id)
            .filter(pack_session::Column::TenantId.eq(tenant.into_uuid()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_pack_session).transpose()
    }

    /// The order's pack session still open, if any (the newest).
    pub async fn open_pack_session_of(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Option<PackSession>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = pack_session::Entity::find()
            .filter(pack_session::Column::TenantId.eq(tenant.into_uuid()))
            .filter(pack_session::Column::OrderId.eq(order.into_uuid()))
            .filter(pack_session::Column::Status.eq(PackStatus::Open.as_str()))
            .order_by_desc(pack_session::Column::CreatedAt)
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_pack_session).transpose()
    }

    /// What the orders hold in stock, line by line and warehouse by warehouse.
    pub async fn order_allocations(
        &self,
        tenant: TenantId,
        orders: &[OrderId],
    ) -> Result<Vec<OrderAllocation>, StoreError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let owners: Vec<String> = orders.iter().map(|o| format!("order:{o}")).collect();
        let tx = self.begin_tenant(tenant).await?;
        let rows = stock_allocation::Entity::find()
            .filter(stock_allocation::Column::TenantId.eq(tenant.into_uuid()))
            .filter(stock_allocation::Column::Owner.is_in(owners))
            .filter(stock_allocation::Column::Quantity.gt(0))
            .order_by_asc(stock_allocation::Column::Owner)
            .order_by_asc(stock_allocation::Column::LineNo)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.into_iter()
            .map(|r| {
                let id = r
                    .owner
                    .strip_prefix("order:")
                    .and_then(|s| s.parse::<Uuid>().ok())
                    .ok_or_else(|| bad("allocation owner"))?;
                Ok(OrderAllocation {
                    order_id: OrderId::from_uuid(id),
                    line_no: u32::try_from(r.line_no).map_err(|_| bad("line"))?,
                    sku: Sku::parse(&r.sku).map_err(|_| bad("sku"))?,
                    warehouse: WarehouseId::from_uuid(r.warehouse_id),
                    quantity: Quantity::new(r.quantity).map_err(|_| bad("quantity"))?,
                })
            })
            .collect()
    }

    /// The staff member's queue: assigned or in progress, earliest ship-by then oldest.
    pub async fn tasks_of(
        &self,
        tenant: TenantId,
        staff: &str,
    ) -> Result<Vec<WarehouseTask>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = warehouse_task::Entity::find()
            .filter(warehouse_task::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse_task::Column::Assignee.eq(staff))
            .filter(warehouse_task::Column::Status.is_in([
                TaskStatus::Assigned.as_str(),
                TaskStatus::InProgress.as_str(),
            ]))
            .order_by_asc(warehouse_task::Column::CreatedAt)
            .order_by_asc(warehouse_task::Column::Id)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        let mut tasks = rows
            .into_iter()
            .map(to_task)
            .collect::<Result<Vec<_>, _>>()?;
        tasks.sort_by_key(|t| (t.ship_by.is_none(), t.ship_by, t.created_at, t.id));
        Ok(tasks)
    }

    /// Hands `staff` the next open task (of `kind`, if given) by [`claim_next`]; `None` when
    /// the queue is empty. The candidates are locked, so two claims never get the same task.
    pub async fn claim_task(
        &self,
        tenant: TenantId,
        staff: &str,
        kind: Option<TaskKind>,
    ) -> Result<Option<WarehouseTask>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let mut query = warehouse_task::Entity::find()
            .filter(warehouse_task::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse_task::Column::Status.eq(TaskStatus::Open.as_str()));
        if let Some(kind) = kind {
            query = query.filter(warehouse_task::Column::Kind.eq(kind.as_str()));
        }
        // Deadlines first on both backends (SQLite sorts NULL first, PostgreSQL last).
        let open = query
            .order_by(
                Expr::col(warehouse_task::Column::ShipBy).is_null(),
                sea_orm::Order::Asc,
            )
            .order_by_asc(warehouse_task::Column::ShipBy)
            .order_by_asc(warehouse_task::Column::CreatedAt)
            .limit(500)
            .lock_exclusive()
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_task)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(next) = claim_next(&open) else {
            return Ok(None);
        };
        let mut task = next.clone();
        task.assign(staff)
            .map_err(|e| StoreError::new(format!("an open task refused a claim: {e}")))?;
        save_task(&tx, &task).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(Some(task))
    }

    /// Locks a task, applies `step` (start, complete) and saves it. `Ok(None)`: no such task.
    pub async fn change_task(
        &self,
        tenant: TenantId,
        id: Uuid,
        step: impl FnOnce(&mut WarehouseTask) -> Result<(), TaskError> + Send,
    ) -> Result<Option<Result<WarehouseTask, TaskError>>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let Some(row) = warehouse_task::Entity::find_by_id(id)
            .filter(warehouse_task::Column::TenantId.eq(tenant.into_uuid()))
            .lock_exclusive()
            .one(&tx)
            .await
            .map_err(store_err)?
        else {
            return Ok(None);
        };
        let mut task = to_task(row)?;
        if let Err(e) = step(&mut task) {
            return Ok(Some(Err(e)));
        }
        save_task(&tx, &task).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(Some(Ok(task)))
    }

    /// The current quantity of a SKU in one bin (0 when it holds none); for tests and checks.
    pub async fn bin_quantity(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
        code: &BinCode,
        sku: &Sku,
    ) -> Result<i64, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let Some(b) = find_bin(&tx, tenant, warehouse, code).await? else {
            return Ok(0);
        };
        let row = bin_stock::Entity::find_by_id((tenant.into_uuid(), b.id, sku.to_string()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(row.map_or(0, |r| r.quantity))
    }
}

async fn save_task(tx: &DatabaseTransaction, task: &WarehouseTask) -> Result<(), StoreError> {
    let mut row = task_row(task);
    row.id = sea_orm::ActiveValue::NotSet;
    row.tenant_id = sea_orm::ActiveValue::NotSet;
    warehouse_task::Entity::update_many()
        .set(row)
        .filter(warehouse_task::Column::TenantId.eq(task.tenant_id.into_uuid()))
        .filter(warehouse_task::Column::Id.eq(task.id))
        .exec(tx)
        .await
        .map_err(store_err)?;
    Ok(())
}

/// A short pick (see `OrderTransaction::write_off_reserved`): takes the units out of the
/// order line's reservation in `warehouse` and off its on hand, with adjustment movements
/// and `inventory.changed` events.
pub(crate) async fn write_off_reserved(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    request: &order::ports::StockRequest,
    warehouse: WarehouseId,
    reason: &str,
) -> Result<(), order::OrderError> {
    use crate::entities::stock_movement;
    use inventory::{MovementKind, StockMovement};
    let mut skus: Vec<Sku> = request.lines.iter().map(|(_, s, _)| s.clone()).collect();
    skus.sort();
    skus.dedup();
    crate::stock_ledger::lock_stock(tx, tenant, &skus).await?;
    let code = warehouse_row::Entity::find_by_id(warehouse.into_uuid())
        .one(tx)
        .await
        .map_err(store_err)?
        .map(|w| w.code)
        .unwrap_or_default();
    let ctx = kernel::RequestContext {
        tenant_id: tenant,
        actor: request.actor.clone(),
        correlation_id: request.correlation_id.unwrap_or_default(),
    };
    let mut events = Vec::new();
    for (line_no, sku, units) in &request.lines {
        let n = units.as_i64();
        let key = (
            tenant.into_uuid(),
            request.reference.clone(),
            *line_no as i32,
            sku.to_string(),
            warehouse.into_uuid(),
        );
        let held = stock_allocation::Entity::find_by_id(key.clone())
            .one(tx)
            .await
            .map_err(store_err)?
            .map_or(0, |a| a.quantity);
        if held < n {
            return Err(kernel::ValidationErrors::single(
                "found",
                format!("line {line_no} holds only {held} units of {sku} in this warehouse"),
            )
            .into());
        }
        if held == n {
            stock_allocation::Entity::delete_by_id(key)
                .exec(tx)
                .await
                .map_err(store_err)?;
        } else {
            stock_allocation::Entity::update_many()
                .col_expr(stock_allocation::Column::Quantity, (held - n).into())
                .filter(stock_allocation::Column::TenantId.eq(tenant.into_uuid()))
                .filter(stock_allocation::Column::Owner.eq(request.reference.as_str()))
                .filter(stock_allocation::Column::LineNo.eq(*line_no as i32))
                .filter(stock_allocation::Column::Sku.eq(sku.as_str()))
                .filter(stock_allocation::Column::WarehouseId.eq(warehouse.into_uuid()))
                .exec(tx)
                .await
                .map_err(store_err)?;
        }
        crate::stock_ledger::move_stock(tx, tenant, (sku, warehouse), -n, -n, request.at).await?;
        stock_movement::Entity::insert(crate::inventory::movement_row(&StockMovement {
            id: kernel::MovementId::new(),
            tenant_id: tenant,
            warehouse_id: warehouse,
            sku: sku.clone(),
            kind: MovementKind::Adjustment,
            on_hand_delta: -n,
            reserved_delta: -n,
            incoming_delta: 0,
            reason: Some(reason.to_owned()),
            reference: Some(request.reference.clone()),
            actor: Some(request.actor.clone()),
            occurred_at: request.at,
        }))
        .exec_without_returning(tx)
        .await
        .map_err(store_err)?;
        events.push(inventory::service::sku_event(
            &ctx,
            "inventory.changed",
            sku,
            request.at,
            serde_json::json!({
                "sku": sku, "warehouse": code, "on_hand_delta": -n, "cause": "short_pick",
                "reason": reason,
            }),
        ));
    }
    outbox::append(tx, &events).await?;
    Ok(())
}
