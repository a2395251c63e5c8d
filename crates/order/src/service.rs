//! Order use cases, generic over their ports so tests run them against mocks.

use crate::ports::{
    IdempotencyRecord, OrderFilter, OrderQueries, OrderTransaction, OrderUnitOfWork, StockChange,
};
use crate::{NewOrder, Order, OrderError};
use chrono::{DateTime, Utc};
use kernel::{Clock, OrderId, Page, PageRequest, Quantity, RequestContext, Sku, StoreError};

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
    uow: U,
    queries: Q,
    clock: C,
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
        let order = draft.validate(OrderId::new(), ctx.tenant_id, now)?;
        let external = order
            .external_id
            .clone()
            .map(|e| (order.channel.clone(), e));
        match self.try_place(ctx, order, idempotency.as_ref(), now).await {
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

        let reserved = reserve_lines(tx.as_mut(), ctx, &order, now).await?;
        order.allocate(&reserved, now)?;
        tx.insert_order(&order).await?;
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
        for (sku, quantity) in released {
            tx.release(&stock_change(ctx, &order, sku, quantity, now))
                .await?;
        }
        tx.update_order(&order, expected_version).await?;
        tx.append_events(&outbox_events(&mut order, ctx, now))
            .await?;
        tx.commit().await?;
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
        page: PageRequest<OrderId>,
    ) -> Result<Page<Order, OrderId>, OrderError> {
        Ok(self.queries.list(ctx.tenant_id, filter, page).await?)
    }
}

/// Reserves each line, in SKU order so two orders never lock the same rows in opposite orders
/// (a deadlock). Returns what each line got, in line order; fails listing every unknown SKU.
async fn reserve_lines(
    tx: &mut dyn OrderTransaction,
    ctx: &RequestContext,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<Vec<Quantity>, OrderError> {
    let mut by_sku: Vec<usize> = (0..order.lines.len()).collect();
    by_sku.sort_by(|a, b| order.lines[*a].sku.cmp(&order.lines[*b].sku));
    let mut reserved = vec![Quantity::ZERO; order.lines.len()];
    let mut unknown: Vec<Sku> = Vec::new();
    for i in by_sku {
        let line = &order.lines[i];
        if unknown.contains(&line.sku) {
            continue;
        }
        let change = stock_change(ctx, order, line.sku.clone(), line.quantity, now);
        match tx.reserve(&change).await {
            Ok(got) => reserved[i] = got.min(line.quantity),
            Err(OrderError::UnknownSku(sku)) => unknown.push(sku),
            Err(e) => return Err(e),
        }
    }
    if unknown.is_empty() {
        Ok(reserved)
    } else {
        Err(OrderError::UnknownSkus(unknown))
    }
}

/// The order's recorded events, as outbox envelopes.
fn outbox_events(
    order: &mut Order,
    ctx: &RequestContext,
    now: DateTime<Utc>,
) -> Vec<kernel::EventEnvelope> {
    let events = order.take_events();
    events
        .iter()
        .map(|e| e.to_envelope(order, ctx, now))
        .collect()
}

fn stock_change(
    ctx: &RequestContext,
    order: &Order,
    sku: Sku,
    quantity: Quantity,
    at: DateTime<Utc>,
) -> StockChange {
    StockChange {
        sku,
        quantity,
        reference: format!("order:{}", order.id),
        actor: ctx.actor.clone(),
        at,
    }
}

#[cfg(test)]
mod tests;
