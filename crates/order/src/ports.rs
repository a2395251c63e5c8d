//! What order management needs from the outside world.

use crate::returns::{ReturnAuthorization, ReturnStatus};
use crate::{Cutoff, Order, OrderError, OrderStatus, Shipment, StatusChange};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{
    CorrelationId, EventEnvelope, HoldId, OrderId, Page, PageRequest, Quantity, ReturnId, Sku,
    StoreError, TenantId, WarehouseId,
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

/// What stock gave an order: units per line (in line order), and the cut-off of the
/// warehouse the order was routed to (its first choice when nothing was reserved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockOutcome {
    pub allocated: Vec<Quantity>,
    pub cutoff: Cutoff,
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
    async fn reserve_lines(&mut self, request: &StockRequest) -> Result<StockOutcome, OrderError>;
    /// Gives back everything reserved under `request.reference`, writing `release` movements.
    async fn release_all(&mut self, request: &StockRequest) -> Result<(), OrderError>;
    /// Takes over a checkout hold's reservations for this order: the order's lines must be
    /// exactly the hold's. Returns what each line got (all of it), in line order.
    /// Errors: `HoldNotFound`, `HoldUnusable` (expired, ended, or lines differ).
    async fn claim_hold(
        &mut self,
        hold: HoldId,
        request: &StockRequest,
    ) -> Result<StockOutcome, OrderError>;
    /// Takes shipped units out of the order's reservations and out of stock (`ship`
    /// movements). `request.lines` are `(line_no, sku, units)` as shipped.
    async fn consume_shipment(&mut self, request: &StockRequest) -> Result<(), OrderError>;
    /// Errors: `DuplicateExternalId` if `(channel, external_id)` is taken.
    async fn insert_order(&mut self, order: &Order) -> Result<(), OrderError>;
    /// Saves the order and its lines, if the stored version is `expected_version`.
    /// Errors: `VersionConflict` otherwise.
    async fn update_order(
        &mut self,
        order: &Order,
        expected_version: i64,
    ) -> Result<(), OrderError>;
    /// Appends to the order's status history.
    async fn record_status_changes(
        &mut self,
        order: OrderId,
        changes: &[StatusChange],
        actor: &str,
    ) -> Result<(), StoreError>;
    async fn insert_shipment(&mut self, shipment: &Shipment) -> Result<(), StoreError>;
    /// Units per order line under returns still open (requested or approved).
    async fn open_return_units(&mut self, order: OrderId) -> Result<Vec<(u32, i64)>, StoreError>;
    async fn insert_return(&mut self, rma: &ReturnAuthorization) -> Result<(), StoreError>;
    /// Reads a return and holds it against concurrent change until commit.
    async fn lock_return(
        &mut self,
        id: ReturnId,
    ) -> Result<Option<ReturnAuthorization>, StoreError>;
    /// Errors: `VersionConflict` if the stored version is not `expected_version`.
    async fn update_return(
        &mut self,
        rma: &ReturnAuthorization,
        expected_version: i64,
    ) -> Result<(), OrderError>;
    /// Puts returned units back on the shelf of `warehouse` (its code; the default warehouse
    /// when `None`): `return` movements adding on hand, and `inventory.changed` events so
    /// waiting backorders can take them. `request.lines` are `(line_no, sku, units)`.
    /// Errors: `Invalid` naming `warehouse` if there is no such warehouse.
    async fn restock(
        &mut self,
        request: &StockRequest,
        warehouse: Option<String>,
    ) -> Result<(), OrderError>;
    /// A short pick: takes `request.lines` `(line_no, sku, units)` out of the order's
    /// reservations in `warehouse` and off that warehouse's on hand (the units are not on the
    /// shelf), writing `adjustment` movements with `reason` and `inventory.changed` events.
    /// Errors: `Invalid` if the order holds fewer units of a line there.
    async fn write_off_reserved(
        &mut self,
        request: &StockRequest,
        warehouse: WarehouseId,
        reason: &str,
    ) -> Result<(), OrderError>;
    /// Errors: `DuplicateIdempotencyKey` if a concurrent request stored the key first (here
    /// or, when the adapter holds writes back to the commit, from `commit`).
    async fn save_idempotency(&mut self, record: &IdempotencyRecord) -> Result<(), OrderError>;
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError>;
    /// Errors: the unique-key conflicts of `insert_order` and `save_idempotency`
    /// (`DuplicateExternalId`, `DuplicateIdempotencyKey`) when the adapter sends its writes
    /// at commit, as the SQL one does.
    async fn commit(self: Box<Self>) -> Result<(), OrderError>;
}

/// Which orders to list. Every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Any of these statuses (empty: all).
    pub statuses: Vec<OrderStatus>,
    pub channel: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Has a line for this SKU.
    pub sku: Option<Sku>,
    /// Ship-to e-mail, compared case-insensitively.
    pub customer_email: Option<String>,
    pub ship_by_before: Option<DateTime<Utc>>,
}

/// Which returns to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnFilter {
    pub order_id: Option<OrderId>,
    pub status: Option<ReturnStatus>,
}

/// List order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrderSort {
    /// Newest first.
    #[default]
    Newest,
    /// The warehouse queue: earliest ship-by first, then faster service, then oldest.
    ShipBy,
}

/// Where the previous page ended, for the sort in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCursor {
    pub ship_by: Option<DateTime<Utc>>,
    pub rank: i32,
    pub id: OrderId,
}

impl OrderCursor {
    pub fn of(order: &Order) -> Self {
        Self {
            ship_by: Some(order.ship_by),
            rank: order.service_level.rank(),
            id: order.id,
        }
    }
}

/// One entry of an order's timeline: a status change or an event about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `status_change` or the event type.
    pub kind: String,
    pub from: Option<OrderStatus>,
    pub to: Option<OrderStatus>,
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub payload: Option<serde_json::Value>,
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
    async fn list(
        &self,
        tenant: TenantId,
        filter: &OrderFilter,
        sort: OrderSort,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<Order, OrderCursor>, StoreError>;
    /// Status history and events of one order, oldest first, at most `limit` entries.
    async fn timeline(
        &self,
        tenant: TenantId,
        id: OrderId,
        limit: u32,
    ) -> Result<Vec<TimelineEntry>, StoreError>;
    async fn shipments(&self, tenant: TenantId, id: OrderId) -> Result<Vec<Shipment>, StoreError>;
    async fn get_return(
        &self,
        tenant: TenantId,
        id: ReturnId,
    ) -> Result<Option<ReturnAuthorization>, StoreError>;
    /// Newest first; the cursor is the last return id of the previous page.
    async fn returns(
        &self,
        tenant: TenantId,
        filter: &ReturnFilter,
        page: PageRequest<ReturnId>,
    ) -> Result<Page<ReturnAuthorization, ReturnId>, StoreError>;
    /// Orders still waiting for some of these SKUs (backordered lines, not cancelled or on
    /// hold), earliest ship-by first, then faster service, then oldest; at most `limit`.
    async fn waiting_for_stock(
        &self,
        tenant: TenantId,
        skus: &[Sku],
        limit: u32,
    ) -> Result<Vec<OrderId>, StoreError>;
}
