//! What inventory needs from the outside world. Adapters map driver errors into
//! [`InventoryError`] business variants (a unique-key violation becomes `DuplicateSku`).

use crate::{InventoryError, Product, StockLevel, StockMovement};
use async_trait::async_trait;
use kernel::{EventEnvelope, Page, PageRequest, Sku, StoreError, TenantId};

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Stores a new product together with its empty stock level.
    /// Errors: `DuplicateSku` if the tenant already has that SKU.
    async fn insert(&self, product: &Product) -> Result<(), InventoryError>;
    async fn get(&self, tenant: TenantId, sku: &Sku) -> Result<Option<Product>, StoreError>;
    /// Products ordered by SKU, after the cursor.
    async fn list(
        &self,
        tenant: TenantId,
        page: PageRequest<Sku>,
    ) -> Result<Page<Product, Sku>, StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait StockQueries: Send + Sync {
    async fn level(&self, tenant: TenantId, sku: &Sku) -> Result<Option<StockLevel>, StoreError>;
    /// Stock levels ordered by SKU, after the cursor.
    async fn list(
        &self,
        tenant: TenantId,
        page: PageRequest<Sku>,
    ) -> Result<Page<StockLevel, Sku>, StoreError>;
}

/// Starts an atomic unit of work confined to one tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait InventoryUnitOfWork: Send + Sync {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn InventoryTransaction>, StoreError>;
}

/// Everything done through one of these commits together or not at all. Dropping it without
/// `commit` rolls it back.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait InventoryTransaction: Send {
    /// Reads the level and holds it against concurrent change until commit.
    async fn lock_level(&mut self, sku: &Sku) -> Result<Option<StockLevel>, StoreError>;
    async fn save_level(&mut self, level: &StockLevel) -> Result<(), StoreError>;
    async fn record_movement(&mut self, movement: &StockMovement) -> Result<(), StoreError>;
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
