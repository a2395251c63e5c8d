//! What the warehouse floor needs from the outside world. The SQL adapter implements these.

use crate::counting::CycleCount;
use crate::location::Bin;
use crate::packing::PackSession;
use crate::pick_plan::BinStock;
use crate::picking::PickList;
use crate::receiving::InboundShipment;
use crate::task::WarehouseTask;
use async_trait::async_trait;
use kernel::{EventEnvelope, Quantity, Sku, StoreError, TenantId, WarehouseId};
use uuid::Uuid;

/// Starts an atomic unit of work confined to one tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait FloorUnitOfWork: Send + Sync {
    /// Errors: `StoreError` when no transaction can be opened.
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn FloorTransaction>, StoreError>;
}

/// Everything done through one of these commits together or not at all: the floor aggregates
/// and their outbox events. Dropping it without `commit` rolls back.
///
/// `lock_*` reads an aggregate and holds it against concurrent change until commit (so two
/// scanners on one pick list queue up rather than race); `Ok(None)` means no such aggregate
/// for this tenant. `save_*` writes back an aggregate locked in this transaction, including
/// its applied scan ids; `insert_*` writes a new one. Every method fails only with
/// `StoreError`, for reasons that are not business outcomes.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait FloorTransaction: Send {
    async fn insert_pick_list(&mut self, list: &PickList) -> Result<(), StoreError>;
    async fn lock_pick_list(&mut self, id: Uuid) -> Result<Option<PickList>, StoreError>;
    async fn save_pick_list(&mut self, list: &PickList) -> Result<(), StoreError>;
    async fn insert_pack_session(&mut self, session: &PackSession) -> Result<(), StoreError>;
    async fn lock_pack_session(&mut self, id: Uuid) -> Result<Option<PackSession>, StoreError>;
    async fn save_pack_session(&mut self, session: &PackSession) -> Result<(), StoreError>;
    async fn lock_inbound(&mut self, id: Uuid) -> Result<Option<InboundShipment>, StoreError>;
    async fn save_inbound(&mut self, shipment: &InboundShipment) -> Result<(), StoreError>;
    async fn lock_count(&mut self, id: Uuid) -> Result<Option<CycleCount>, StoreError>;
    async fn save_count(&mut self, count: &CycleCount) -> Result<(), StoreError>;
    /// Takes `quantity` units of `sku` out of `bin` (picked, or found missing). Bin stock
    /// never goes below zero: a bin that holds fewer is emptied.
    async fn take_from_bin(
        &mut self,
        bin: &Bin,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<(), StoreError>;
    async fn insert_task(&mut self, task: &WarehouseTask) -> Result<(), StoreError>;
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Where stock sits, bin by bin, for planning picks.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait BinStockReader: Send + Sync {
    /// Every bin in `warehouse` holding any of `skus`, each with its walk order, the product's
    /// GTIN and whether it is the SKU's preferred bin. `on_hand` is what the bin holds less
    /// what pick lists not yet complete still plan to take from it (bins with nothing free are
    /// left out), so two plans never count on the same unit. Unknown SKUs simply have no rows.
    /// Errors: `StoreError` only.
    async fn bin_stock(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
        skus: &[Sku],
    ) -> Result<Vec<BinStock>, StoreError>;
}
