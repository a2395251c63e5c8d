//! The port receiving, cycle counts and QC need: one tenant-confined unit of work holding the
//! floor aggregates (inbound shipments, put-away tasks, counts, checklists, inspections,
//! quarantines), bin stock, and the stock effects they cause on the warehouse's stock level.
//!
//! Separate from [`crate::FloorTransaction`] (pick lists and pack sessions) on purpose: the
//! two grow on different branches, and neither needs the other's methods.

use crate::counting::CycleCount;
use crate::location::BinCode;
use crate::qc::{QcChecklist, QcResult, Quarantine, QuarantineStatus};
use crate::receiving::{InboundShipment, InboundStatus};
use crate::task::WarehouseTask;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{
    EventEnvelope, Page, PageRequest, Quantity, RequestContext, Sku, StoreError, TenantId,
    WarehouseId,
};
use uuid::Uuid;

/// A warehouse as the floor names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloorWarehouse {
    pub id: WarehouseId,
    pub code: String,
}

/// A put-away task: good units of one SKU from a closed inbound shipment, to go to a bin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutAwayTask {
    pub task: WarehouseTask,
    pub inbound_id: Uuid,
    pub sku: Sku,
    pub quantity: Quantity,
    /// Where closing suggested: the SKU's preferred bin, else the default bin.
    pub suggested_bin: BinCode,
    /// Where the units went, once confirmed.
    pub placed_bin: Option<BinCode>,
}

/// One QC inspection as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub id: Uuid,
    pub result: QcResult,
    pub warehouse: WarehouseId,
    pub reference: Option<String>,
}

/// A quarantine with where its units are and which inspection put them there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRecord {
    pub quarantine: Quarantine,
    pub warehouse: WarehouseId,
    pub inspection_id: Uuid,
    pub created_at: DateTime<Utc>,
}

impl QuarantineRecord {
    /// The owner of its stock reservation and the reference of its movements.
    pub fn owner(&self) -> String {
        format!("quarantine:{}", self.quarantine.id)
    }
}

/// An `Idempotency-Key` and a fingerprint of the request body it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

/// What an earlier request with the same key created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub fingerprint: String,
    pub resource_type: String,
    pub resource_id: Uuid,
}

/// Why a stock effect was not written. `Refused` is a business outcome decided by the
/// inventory rules the adapter runs (`below-reserved`, `insufficient-stock`, ...).
#[derive(Debug, thiserror::Error)]
pub enum StockEffectError {
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts an atomic unit of work confined to one tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait InboundUnitOfWork: Send + Sync {
    /// Errors: `StoreError` when no transaction can be opened.
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn InboundTransaction>, StoreError>;
}

/// Everything done through one of these commits together or not at all; dropping it without
/// `commit` rolls back. Reads see only the tenant's rows; `Ok(None)` means "no such thing for
/// this tenant". `lock_*` holds the row against concurrent change until commit. Methods fail
/// with `StoreError` only, except the stock effects, which may be `Refused`.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait InboundTransaction: Send {
    async fn warehouse(&mut self, code: &str) -> Result<Option<FloorWarehouse>, StoreError>;
    async fn warehouse_by_id(
        &mut self,
        id: WarehouseId,
    ) -> Result<Option<FloorWarehouse>, StoreError>;
    /// The tenant's products among `skus`, with their GTIN; unknown SKUs are left out.
    async fn products(&mut self, skus: &[Sku]) -> Result<Vec<(Sku, Option<String>)>, StoreError>;
    /// The bin's id, if the warehouse has a bin with that code.
    async fn bin(
        &mut self,
        warehouse: WarehouseId,
        code: &BinCode,
    ) -> Result<Option<Uuid>, StoreError>;
    /// The preferred bin of each of `skus` that has one in `warehouse`.
    async fn preferred_bins(
        &mut self,
        warehouse: WarehouseId,
        skus: &[Sku],
    ) -> Result<Vec<(Sku, BinCode)>, StoreError>;
    /// What the books say is in a bin, by SKU, locked until commit.
    async fn bin_contents(&mut self, bin: Uuid) -> Result<Vec<(Sku, Quantity)>, StoreError>;
    /// Sets a bin's figure for a SKU (creating the row).
    async fn set_bin_stock(
        &mut self,
        bin: Uuid,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<(), StoreError>;
    /// Adds units to a bin (creating the row).
    async fn add_bin_stock(
        &mut self,
        bin: Uuid,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<(), StoreError>;

    async fn insert_inbound(&mut self, shipment: &InboundShipment) -> Result<(), StoreError>;
    async fn lock_inbound(&mut self, id: Uuid) -> Result<Option<InboundShipment>, StoreError>;
    async fn save_inbound(&mut self, shipment: &InboundShipment) -> Result<(), StoreError>;
    /// Newest first, after the cursor.
    async fn list_inbound(
        &mut self,
        status: Option<InboundStatus>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<InboundShipment, Uuid>, StoreError>;

    async fn insert_task(&mut self, task: &WarehouseTask) -> Result<(), StoreError>;
    async fn save_task(&mut self, task: &WarehouseTask) -> Result<(), StoreError>;
    /// The task with this reference and kind `count` (a count's task).
    async fn lock_task_by_reference(
        &mut self,
        reference: &str,
    ) -> Result<Option<WarehouseTask>, StoreError>;
    /// Inserts the put-away detail; its task is inserted with `insert_task`.
    async fn insert_put_away(&mut self, put_away: &PutAwayTask) -> Result<(), StoreError>;
    /// By task id.
    async fn lock_put_away(&mut self, task: Uuid) -> Result<Option<PutAwayTask>, StoreError>;
    /// Saves the task and where the units went.
    async fn save_put_away(&mut self, put_away: &PutAwayTask) -> Result<(), StoreError>;
    async fn put_aways_of(&mut self, inbound: Uuid) -> Result<Vec<PutAwayTask>, StoreError>;

    async fn insert_count(&mut self, count: &CycleCount) -> Result<(), StoreError>;
    async fn lock_count(&mut self, id: Uuid) -> Result<Option<CycleCount>, StoreError>;
    async fn save_count(&mut self, count: &CycleCount) -> Result<(), StoreError>;
    /// Submitted counts of `warehouse` counted in `[from, to)`.
    async fn submitted_counts(
        &mut self,
        warehouse: WarehouseId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CycleCount>, StoreError>;

    async fn insert_checklist(&mut self, checklist: &QcChecklist) -> Result<(), StoreError>;
    /// Oldest first.
    async fn checklists(&mut self) -> Result<Vec<QcChecklist>, StoreError>;
    async fn checklist(&mut self, id: Uuid) -> Result<Option<QcChecklist>, StoreError>;
    async fn insert_inspection(&mut self, inspection: &Inspection) -> Result<(), StoreError>;
    async fn insert_quarantine(&mut self, record: &QuarantineRecord) -> Result<(), StoreError>;
    async fn lock_quarantine(&mut self, id: Uuid) -> Result<Option<QuarantineRecord>, StoreError>;
    async fn save_quarantine(&mut self, record: &QuarantineRecord) -> Result<(), StoreError>;
    /// Newest first, after the cursor.
    async fn list_quarantines(
        &mut self,
        status: Option<QuarantineStatus>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<QuarantineRecord, Uuid>, StoreError>;

    /// Books good units in: `receipt` movements under `reference`, on hand up.
    async fn receive_stock(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        lines: &[(Sku, Quantity)],
        reference: &str,
    ) -> Result<(), StockEffectError>;
    /// Moves on hand by a count's variance: a `count` movement with `reason`, the caller as
    /// actor. Refused (`below-reserved`) if on hand would drop below what is reserved.
    async fn count_variance(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        sku: &Sku,
        delta: i64,
        reason: &str,
        reference: &str,
    ) -> Result<(), StockEffectError>;
    /// Takes units out of `available` under `owner`. Refused (`insufficient-stock`) when
    /// fewer are available in the warehouse.
    async fn quarantine_stock(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        sku: &Sku,
        quantity: Quantity,
        owner: &str,
    ) -> Result<(), StockEffectError>;
    /// Makes `owner`'s quarantined units available again.
    async fn release_quarantined(
        &mut self,
        ctx: &RequestContext,
        sku: &Sku,
        owner: &str,
    ) -> Result<(), StockEffectError>;
    /// Writes `owner`'s quarantined units off on hand.
    async fn dispose_quarantined(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        sku: &Sku,
        owner: &str,
    ) -> Result<(), StockEffectError>;

    /// Claims `key` for the resource about to be created. `Ok(None)`: claimed (it commits
    /// with the resource); `Ok(Some(_))`: an earlier request holds the key and nothing was
    /// written. A concurrent request with the same key waits for the first to commit.
    async fn claim_idempotency(
        &mut self,
        key: &IdempotencyKey,
        resource_type: &str,
        resource_id: Uuid,
    ) -> Result<Option<IdempotencyClaim>, StoreError>;
    /// An inspection and the quarantine it opened, for replays.
    async fn inspection(
        &mut self,
        id: Uuid,
    ) -> Result<Option<(Inspection, Option<QuarantineRecord>)>, StoreError>;

    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
