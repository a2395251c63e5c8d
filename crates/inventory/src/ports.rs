//! What inventory needs from the outside world. Adapters map driver errors into
//! [`InventoryError`] business variants (a unique-key violation becomes `DuplicateSku`).

use crate::allocation::AllocationRules;
use crate::hold::Hold;
use crate::ledger::LedgerSums;
use crate::reservations::StockLedger;
use crate::routing::WarehousePlacement;
use crate::stock::StockDelta;
use crate::transfer::Transfer;
use crate::{
    InventoryError, Product, StockLevel, StockMovement, StockTotals, ValuationRow, Warehouse,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{
    HoldId, Money, MovementId, Page, PageRequest, Sku, StoreError, TenantId, TransferId,
    WarehouseId,
};
use std::collections::HashMap;

/// Which products to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Matches a SKU or barcode exactly, or is contained in the name (case-insensitive).
    pub search: Option<String>,
    pub include_archived: bool,
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// Stores a new product with its kit components; a simple product also gets an empty stock
    /// row in the tenant's default warehouse.
    /// Errors: `DuplicateSku` if the tenant already has that SKU.
    async fn insert(&self, product: &Product) -> Result<(), InventoryError>;
    /// Stores simple products all together or none (a CSV import).
    /// Errors: `DuplicateSku` naming the first SKU the tenant already has.
    async fn insert_all(&self, products: &[Product]) -> Result<(), InventoryError>;
    async fn get(&self, tenant: TenantId, sku: &Sku) -> Result<Option<Product>, StoreError>;
    /// Products ordered by SKU, after the cursor.
    async fn list(
        &self,
        tenant: TenantId,
        filter: &ProductFilter,
        page: PageRequest<Sku>,
    ) -> Result<Page<Product, Sku>, StoreError>;
    /// Saves the product if the stored version is `expected_version`.
    /// Errors: `VersionMismatch` otherwise.
    async fn update(&self, product: &Product, expected_version: i64) -> Result<(), InventoryError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait WarehouseRepository: Send + Sync {
    /// Errors: `DuplicateWarehouse` if the code is taken.
    async fn insert(&self, warehouse: &Warehouse) -> Result<(), InventoryError>;
    /// By priority, then code.
    async fn list(&self, tenant: TenantId) -> Result<Vec<Warehouse>, StoreError>;
    async fn by_code(&self, tenant: TenantId, code: &str) -> Result<Option<Warehouse>, StoreError>;
    async fn default_warehouse(&self, tenant: TenantId) -> Result<Option<Warehouse>, StoreError>;
    /// Writes back a warehouse's name and address (its code, priority and cut-off change
    /// through routing).
    async fn update_details(&self, warehouse: &Warehouse) -> Result<(), StoreError>;
    /// The tenant's routing rules; the defaults until it sets some.
    async fn allocation_rules(&self, tenant: TenantId) -> Result<AllocationRules, StoreError>;
    /// Saves the rules and every warehouse's priority and cut-off, together.
    async fn save_routing(
        &self,
        tenant: TenantId,
        rules: AllocationRules,
        placements: &[WarehousePlacement],
    ) -> Result<(), StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait StockQueries: Send + Sync {
    /// A SKU's stock in every warehouse that has a row for it.
    async fn levels(&self, tenant: TenantId, sku: &Sku) -> Result<Vec<StockLevel>, StoreError>;
    /// Stock of the given SKUs in every warehouse (for kits: their components).
    async fn levels_of(
        &self,
        tenant: TenantId,
        skus: &[Sku],
    ) -> Result<Vec<StockLevel>, StoreError>;
    /// Totals per SKU, ordered by SKU, after the cursor.
    async fn totals(
        &self,
        tenant: TenantId,
        page: PageRequest<Sku>,
    ) -> Result<Page<StockTotals, Sku>, StoreError>;
    /// A SKU's ledger, newest first, after the cursor.
    async fn movements(
        &self,
        tenant: TenantId,
        sku: &Sku,
        page: PageRequest<MovementId>,
    ) -> Result<Page<StockMovement, MovementId>, StoreError>;
    /// Every live level of the tenant.
    async fn all_levels(&self, tenant: TenantId) -> Result<Vec<StockLevel>, StoreError>;
    /// The tenant's whole ledger summed per warehouse and SKU (by the database).
    async fn ledger_sums(&self, tenant: TenantId) -> Result<LedgerSums, StoreError>;
    /// Units reserved by orders per day for each SKU, oldest first, the last `days` days
    /// ending at `until` (one query for all SKUs).
    async fn daily_demand(
        &self,
        tenant: TenantId,
        skus: &[Sku],
        days: u32,
        until: DateTime<Utc>,
    ) -> Result<HashMap<Sku, Vec<u32>>, StoreError>;
    /// On hand and average cost of every stocked SKU in every warehouse.
    async fn valuation_rows(&self, tenant: TenantId) -> Result<Vec<ValuationRow>, StoreError>;
    async fn transfer(
        &self,
        tenant: TenantId,
        id: TransferId,
    ) -> Result<Option<Transfer>, StoreError>;
    async fn hold(&self, tenant: TenantId, id: HoldId) -> Result<Option<Hold>, StoreError>;
}

/// Starts an atomic unit of work confined to one tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait InventoryUnitOfWork: Send + Sync {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn InventoryTransaction>, StoreError>;
    /// Expired active holds of any tenant, claimed so two workers never release one twice.
    async fn claim_expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, HoldId)>, StoreError>;
}

/// Everything done through one of these commits together or not at all. Dropping it without
/// `commit` rolls it back. Reserving and releasing go through its [`StockLedger`] half.
#[async_trait]
pub trait InventoryTransaction: StockLedger + Send {
    /// Reads the level and holds it against concurrent change until commit; `None` if the
    /// warehouse has never stocked the SKU.
    async fn lock_level(
        &mut self,
        warehouse: WarehouseId,
        sku: &Sku,
    ) -> Result<Option<StockLevel>, StoreError>;
    /// Inserts or updates the level.
    async fn save_level(&mut self, level: &StockLevel) -> Result<(), StoreError>;
    async fn record_movement(&mut self, movement: &StockMovement) -> Result<(), StoreError>;
    /// Reads the product and holds it until commit (receipts move its average cost).
    async fn lock_product(&mut self, sku: &Sku) -> Result<Option<Product>, StoreError>;
    /// The warehouse with this code, or the default one for `None`.
    async fn find_warehouse(
        &mut self,
        code: Option<String>,
    ) -> Result<Option<Warehouse>, StoreError>;
    async fn save_average_cost(&mut self, sku: &Sku, cost: Money) -> Result<(), StoreError>;
    async fn insert_hold(&mut self, hold: &Hold) -> Result<(), StoreError>;
    async fn lock_hold(&mut self, id: HoldId) -> Result<Option<Hold>, StoreError>;
    async fn save_hold(&mut self, hold: &Hold) -> Result<(), StoreError>;
    async fn insert_transfer(&mut self, transfer: &Transfer) -> Result<(), StoreError>;
    async fn lock_transfer(&mut self, id: TransferId) -> Result<Option<Transfer>, StoreError>;
    async fn save_transfer(&mut self, transfer: &Transfer) -> Result<(), StoreError>;
    /// Sets a level to its ledger sums (a rebuild), creating it if missing.
    async fn overwrite_level(
        &mut self,
        warehouse: WarehouseId,
        sku: &Sku,
        sums: StockDelta,
    ) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
