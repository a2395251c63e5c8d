//! What order management needs from the outside world.

use crate::{Order, OrderError, OrderStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{
    CorrelationId, EventEnvelope, HoldId, OrderId, Page, PageRequest, Quantity, Sku, StoreError,
    TenantId,
};

/// A stored `Idempotency-Key`: which order it created, and a fingerprint of the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key: String,
    pub fingerprint: String,
    pub order_id: OrderId,
}

/// Stock to reserve (or release) for one order, with what the ledger must say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRequest {
    /// `order:<id>`: owner of the reservations and reference of their movements.
    pub reference: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub correlation_id: Option<CorrelationId>,
    /// `(line_no, sku, quantity)`; empty for a release.
    pub lines: Vec<(u32, Sku, Quantity)>,
}

/// Starts an atomic unit of work confined to one tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OrderUnitOfWork: Send + Sync {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn OrderTransaction>, StoreError>;
}

/// Everything done through one of these commits together or not at all: the order, its stock
/// reservations with their ledger movements, and its outbox events. Dropping it rolls back.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OrderTransaction: Send {
    async fn find_idempotency(
        &mut self,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    async fn find_by_external_id(
        &mut self,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<Order>, StoreError>;
    /// Reads the order and holds it against concurrent change until commit.
    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError>;
    /// Reserves for every line as much as stock allows — across warehouses, kits as their
    /// components — and returns what each line got, in line order, writing `reservation`
    /// movements. Stock rows stay locked until commit, so concurrent orders can never together
    /// exceed on hand. Errors: `UnknownSkus` listing every SKU the tenant does not sell.
    async fn reserve_lines(&mut self, request: &StockRequest) -> Result<Vec<Quantity>, OrderError>;
    /// Gives back everything reserved under `request.reference`, writing `release` movements.
    async fn release_all(&mut self, request: &StockRequest) -> Result<(), OrderError>;
    /// Takes over a checkout hold's reservations for this order: the order's lines must be
    /// exactly the hold's. Returns what each line got (all of it), in line order.
    /// Errors: `HoldNotFound`, `HoldUnusable` (expired, ended, or lines differ).
    async fn claim_hold(
        &mut self,
        hold: HoldId,
        request: &StockRequest,
    ) -> Result<Vec<Quantity>, OrderError>;
    /// Errors: `DuplicateExternalId` if `(channel, external_id)` is taken.
    async fn insert_order(&mut self, order: &Order) -> Result<(), OrderError>;
    /// Saves status, lines' allocations and version, if the stored version is `expected_version`.
    /// Errors: `VersionConflict` otherwise.
    async fn update_order(
        &mut self,
        order: &Order,
        expected_version: i64,
    ) -> Result<(), OrderError>;
    /// Errors: `DuplicateIdempotencyKey` if a concurrent request stored the key first.
    async fn save_idempotency(&mut self, record: &IdempotencyRecord) -> Result<(), OrderError>;
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Which orders to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
}

/// Reads outside any unit of work.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OrderQueries: Send + Sync {
    async fn get(&self, tenant: TenantId, id: OrderId) -> Result<Option<Order>, StoreError>;
    async fn find_by_external_id(
        &self,
        tenant: TenantId,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<Order>, StoreError>;
    async fn find_idempotency(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// Newest first; the cursor is the last order id of the previous page.
    async fn list(
        &self,
        tenant: TenantId,
        filter: &OrderFilter,
        page: PageRequest<OrderId>,
    ) -> Result<Page<Order, OrderId>, StoreError>;
}
