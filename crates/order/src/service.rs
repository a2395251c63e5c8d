//! Order use cases, generic over their ports so tests run them against mocks.

use crate::ports::{
    IdempotencyRecord, OrderCursor, OrderFilter, OrderQueries, OrderSort, OrderTransaction,
    OrderUnitOfWork, StockRequest, TimelineEntry,
};
use crate::{NewOrder, Order, OrderError, Shipment};
use chrono::{DateTime, Utc};
use kernel::{Clock, OrderId, Page, PageRequest, RequestContext, StoreError};

/// A caller's `Idempotency-Key` with a fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRequest {
    pub key: String,
    pub fingerprint: String,
}

/// How a placement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A new order was written.
    Created(Order),
    /// The same `Idempotency-Key` and body were seen before: this is that order.
    Replayed(Order),
    /// The channel already sent this `external_id`: this is the first order, not a second one.
    Existing(Order),
}

impl Placement {
    pub fn order(&self) -> &Order {
        match self {
            Self::Created(o) | Self::Replayed(o) | Self::Existing(o) => o,
        }
    }
}

pub struct OrderService<U, Q, C> {
    pub(crate) uow: U,
    pub(crate) queries: Q,
    pub(crate) clock: C,
}

impl<U, Q, C> OrderService<U, Q, C>
where
    U: OrderUnitOfWork,
    Q: OrderQueries,
    C: Clock,
{
    pub fn new(uow: U, queries: Q, clock: C) -> Self {
        Self {
            uow,
            queries,
            clock,
        }
    }

    /// Places an order: validates it, reserves what stock allows, and writes the order, its
    /// reservations and its `order.created` event in one transaction — or nothing at all.
    pub async fn place(
        &self,
        ctx: &RequestContext,
        draft: NewOrder,
        idempotency: Option<IdempotencyRequest>,
    ) -> Result<Placement, OrderError> {
        let now = self.clock.now();
        let hold = draft.hold_id;
        let order = draft.validate(OrderId::at(now), ctx.tenant_id, now)?;
        let external = order
            .external_id
            .clone()
            .map(|e| (order.channel.clone(), e));
        match self
            .try_place(ctx, order, hold, idempotency.as_ref(), now)
            .await
        {
            // A concurrent request won the race on a unique key; answer as if we had come second.
            Err(OrderError::DuplicateExternalId) => {
                let (channel, external_id) = external.ok_or(OrderError::DuplicateExternalId)?;
                self.queries
                    .find_by_external_id(ctx.tenant_id, &channel, &external_id)
                    .await?
                    .map(Placement::Existing)
                    .ok_or(OrderError::DuplicateExternalId)
            }
            Err(OrderError::DuplicateIdempotencyKey) => {
                let idem = idempotency.ok_or(OrderError::DuplicateIdempotencyKey)?;
                let record = self
                    .queries
                    .find_idempotency(ctx.tenant_id, &idem.key)
                    .await?
                    .ok_or(OrderError::DuplicateIdempotencyKey)?;
                self.replay(ctx, &record, &idem).await
            }
            other => other,
        }
    }

    async fn try_place(
        &self,
        ctx: &RequestContext,
        mut order: Order,
        hold: Option<kernel::HoldId>,
        idempotency: Option<&IdempotencyRequest>,
        now: DateTime<Utc>,
    ) -> Result<Placement, OrderError> {
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        if let Some(idem) = idempotency
            && let Some(record) = tx.find_idempotency(&idem.key).await?
        {
            drop(tx);
            return self.replay(ctx, &record, idem).await;
        }
        if let Some(external_id) = &order.external_id
            && let Some(existing) = tx.find_by_external_id(&order.channel, external_id).await?
        {
            return Ok(Placement::Existing(existing));
        }

        let request = stock_request(ctx, &order, now);
        let stock = match hold {
            Some(hold) => tx.claim_hold(hold, &request).await?,
            None => tx.reserve_lines(&request).await?,
        };
        order.allocate(&stock.allocated, stock.cutoff, now)?;
        tx.insert_order(&order).await?;
        tx.record_status_changes(order.id, &order.take_status_changes(), &ctx.actor)
            .await?;
        if let Some(idem) = idempotency {
            tx.save_idempotency(&IdempotencyRecord {
                key: idem.key.clone(),
                fingerprint: idem.fingerprint.clone(),
                order_id: order.id,
            })
            .await?;
        }
        tx.append_events(&outbox_events(&mut order, ctx, now))
            .await?;
        tx.commit().await?;
        Ok(Placement::Created(order))
    }

    async fn replay(
        &self,
        ctx: &RequestContext,
        record: &IdempotencyRecord,
        request: &IdempotencyRequest,
    ) -> Result<Placement, OrderError> {
        if record.fingerprint != request.fingerprint {
            return Err(OrderError::IdempotencyKeyReused);
        }
        let order = self
            .queries
            .get(ctx.tenant_id, record.order_id)
            .await?
            .ok_or_else(|| StoreError::new("idempotency record points at a missing order"))?;
        Ok(Placement::Replayed(order))
    }

    /// Cancels an order and releases every unit it had reserved, in one transaction.
    pub async fn cancel(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        reason: Option<String>,
    ) -> Result<Order, OrderError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut order = tx.lock_order(id).await?.ok_or(OrderError::NotFound(id))?;
        let expected_version = order.version;
        let released = order.cancel(reason, now)?;
        if !released.is_empty() {
            tx.release_all(&release_request(ctx, &order, now)).await?;
        }
        save(tx, &mut order, expected_version, ctx, now).await?;
        Ok(order)
    }

    pub async fn get(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, OrderError> {
        self.queries
            .get(ctx.tenant_id, id)
            .await?
            .ok_or(OrderError::NotFound(id))
    }

    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &OrderFilter,
        sort: OrderSort,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<Order, OrderCursor>, OrderError> {
        Ok(self.queries.list(ctx.tenant_id, filter, sort, page).await?)
    }

    /// Status history and events, oldest first; bounded.
    pub async fn timeline(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Vec<TimelineEntry>, OrderError> {
        self.get(ctx, id).await?;
        Ok(self.queries.timeline(ctx.tenant_id, id, 500).await?)
    }

    pub async fn shipments(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Vec<Shipment>, OrderError> {
        self.get(ctx, id).await?;
        Ok(self.queries.shipments(ctx.tenant_id, id).await?)
    }
}

/// Writes a changed order, its history and its events, and commits.
pub(crate) async fn save(
    mut tx: Box<dyn OrderTransaction>,
    order: &mut Order,
    expected_version: i64,
    ctx: &RequestContext,
    now: DateTime<Utc>,
) -> Result<(), OrderError> {
    tx.update_order(order, expected_version).await?;
    let changes = order.take_status_changes();
    if !changes.is_empty() {
        tx.record_status_changes(order.id, &changes, &ctx.actor)
            .await?;
    }
    tx.append_events(&outbox_events(order, ctx, now)).await?;
    tx.commit().await?;
    Ok(())
}

/// The order's recorded events, as outbox envelopes.
pub(crate) fn outbox_events(
    order: &mut Order,
    ctx: &RequestContext,
    now: DateTime<Utc>,
) -> Vec<kernel::EventEnvelope> {
    let events = order.take_events();
    let mut out = Vec::with_capacity(events.len());
    for e in &events {
        out.push(e.to_envelope(order, ctx, now));
        if let Some(shipment) = e.shipment_envelope(order, ctx, now) {
            out.push(shipment);
        }
    }
    out
}

/// Gives back everything the order still holds.
pub(crate) fn release_request(
    ctx: &RequestContext,
    order: &Order,
    at: DateTime<Utc>,
) -> StockRequest {
    let mut request = stock_request(ctx, order, at);
    request.lines.clear();
    request
}

/// What the order asks of stock: every line, under the order's own reference.
pub(crate) fn stock_request(
    ctx: &RequestContext,
    order: &Order,
    at: DateTime<Utc>,
) -> StockRequest {
    StockRequest {
        reference: format!("order:{}", order.id),
        actor: ctx.actor.clone(),
        at,
        correlation_id: Some(ctx.correlation_id),
        lines: order
            .lines
            .iter()
            .map(|l| (l.line_no, l.sku.clone(), l.quantity))
            .collect(),
    }
}

pub mod backorders;
mod fulfilment;
pub mod returns;

#[cfg(test)]
mod fulfilment_tests;
#[cfg(test)]
mod tests;
