//! The event consumers this binary runs, over RabbitMQ (`tote worker`) or in-process.

use analytics::daily_increment;
use async_trait::async_trait;
use kernel::{EventEnvelope, EventHandler, HandlerError};
use notification::Notifier;
use sql::SqlStore;
use std::sync::Arc;

/// Keeps the orders-per-day read model. Idempotent: the increment and the inbox record
/// commit together, so a redelivered event counts once.
pub struct DailyOrdersProjection {
    store: SqlStore,
    name: &'static str,
}

impl DailyOrdersProjection {
    pub const NAME: &'static str = "analytics.daily_orders";

    pub fn new(store: SqlStore) -> Self {
        Self::named(store, Self::NAME)
    }

    /// Under another consumer name: its own queue and inbox (tests run side by side).
    pub fn named(store: SqlStore, name: &'static str) -> Self {
        Self { store, name }
    }
}

#[async_trait]
impl EventHandler for DailyOrdersProjection {
    fn name(&self) -> &'static str {
        self.name
    }

    fn subscriptions(&self) -> &'static [&'static str] {
        &["order.*"]
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        let Some(increment) = daily_increment(event) else {
            return Ok(());
        };
        let transient = |e: kernel::StoreError| HandlerError::Transient(e.to_string());
        let Some(inbox) = self
            .store
            .inbox_begin(self.name, event)
            .await
            .map_err(transient)?
        else {
            return Ok(()); // seen before
        };
        self.store
            .apply_daily_orders(&inbox, &increment)
            .await
            .map_err(transient)?;
        inbox.commit().await.map_err(transient)
    }

    /// One transaction per tenant in the batch: one inbox insert for all its events, one
    /// upsert per (day, channel).
    async fn handle_batch(&self, events: &[EventEnvelope]) -> Result<(), HandlerError> {
        let transient = |e: kernel::StoreError| HandlerError::Transient(e.to_string());
        for (tenant, events) in by_tenant(events) {
            let counted: Vec<&EventEnvelope> = events
                .into_iter()
                .filter(|e| daily_increment(e).is_some())
                .collect();
            if counted.is_empty() {
                continue;
            }
            let (inbox, fresh) = self
                .store
                .inbox_begin_many(self.name, tenant, &counted)
                .await
                .map_err(transient)?;
            let increments = counted
                .iter()
                .filter(|e| fresh.contains(&e.id))
                .filter_map(|e| daily_increment(e));
            for increment in analytics::combine(increments) {
                self.store
                    .apply_daily_orders(&inbox, &increment)
                    .await
                    .map_err(transient)?;
            }
            inbox.commit().await.map_err(transient)?;
        }
        Ok(())
    }
}

/// The events of each tenant, tenants in first-seen order, events in their order.
fn by_tenant(events: &[EventEnvelope]) -> Vec<(kernel::TenantId, Vec<&EventEnvelope>)> {
    let mut groups: Vec<(kernel::TenantId, Vec<&EventEnvelope>)> = Vec::new();
    for event in events {
        match groups.iter_mut().find(|(t, _)| *t == event.tenant_id) {
            Some((_, group)) => group.push(event),
            None => groups.push((event.tenant_id, vec![event])),
        }
    }
    groups
}

/// Turns each event into one pending delivery per subscribed webhook endpoint (the
/// dispatcher sends them). Idempotent through the inbox, and the unique (subscription, event).
pub struct WebhookFanout {
    store: SqlStore,
}

impl WebhookFanout {
    pub const NAME: &'static str = "webhooks.fanout";

    pub fn new(store: SqlStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for WebhookFanout {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> &'static [&'static str] {
        &["#"]
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        let transient = |e: kernel::StoreError| HandlerError::Transient(e.to_string());
        let Some(inbox) = self
            .store
            .inbox_begin(Self::NAME, event)
            .await
            .map_err(transient)?
        else {
            return Ok(());
        };
        self.store
            .fan_out_webhooks(&inbox, event)
            .await
            .map_err(transient)?;
        inbox.commit().await.map_err(transient)
    }

    /// One transaction per tenant in the batch: one inbox insert, one subscription read and
    /// one insert of every delivery.
    async fn handle_batch(&self, events: &[EventEnvelope]) -> Result<(), HandlerError> {
        let transient = |e: kernel::StoreError| HandlerError::Transient(e.to_string());
        for (tenant, events) in by_tenant(events) {
            let (inbox, fresh) = self
                .store
                .inbox_begin_many(Self::NAME, tenant, &events)
                .await
                .map_err(transient)?;
            let fresh: Vec<&EventEnvelope> = events
                .into_iter()
                .filter(|e| fresh.contains(&e.id))
                .collect();
            self.store
                .fan_out_webhooks_many(&inbox, tenant, &fresh)
                .await
                .map_err(transient)?;
            inbox.commit().await.map_err(transient)?;
        }
        Ok(())
    }
}

/// Gives stock that came free to the orders waiting for it (receipts, returns, counts up,
/// cancellations, expired holds). Needs no inbox: a fill reads current state under lock, so a
/// redelivered event only finds nothing more to do.
pub struct BackorderAllocation {
    orders: crate::state::Orders,
}

impl BackorderAllocation {
    pub const NAME: &'static str = "orders.backorder_allocation";

    pub fn new(store: SqlStore) -> Self {
        Self {
            orders: order::service::OrderService::new(store.clone(), store, kernel::SystemClock),
        }
    }
}

#[async_trait]
impl EventHandler for BackorderAllocation {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> &'static [&'static str] {
        order::service::backorders::STOCK_FREEING_EVENTS
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        let skus = order::service::backorders::skus_freed_by(event);
        if skus.is_empty() {
            return Ok(());
        }
        let mut ctx = kernel::RequestContext::new(event.tenant_id, "system:backorders");
        if let Some(correlation) = event.correlation_id {
            ctx.correlation_id = correlation;
        }
        let report = self
            .orders
            .fill_backorders(&ctx, &skus)
            .await
            .map_err(|e| HandlerError::Transient(e.to_string()))?;
        if !report.filled.is_empty() {
            tracing::info!(
                tenant = %event.tenant_id,
                filled = report.filled.len(),
                examined = report.examined,
                "backorders allocated"
            );
        }
        Ok(())
    }
}

/// Runs a consumer inside a span that continues the trace of the request that caused the
/// event (its `traceparent`), so one trace shows the request and everything it set off.
pub struct Traced(pub Arc<dyn EventHandler>);

#[async_trait]
impl EventHandler for Traced {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn subscriptions(&self) -> &'static [&'static str] {
        self.0.subscriptions()
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        use tracing::Instrument;
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {} {}", self.0.name(), event.event_type),
            consumer = self.0.name(),
            event_id = %event.id,
            event_type = %event.event_type,
        );
        crate::telemetry::continue_trace(&span, event.traceparent.as_deref());
        self.0.handle(event).instrument(span).await
    }

    async fn handle_batch(&self, events: &[EventEnvelope]) -> Result<(), HandlerError> {
        use tracing::Instrument;
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {} batch", self.0.name()),
            consumer = self.0.name(),
            events = events.len(),
        );
        // A batch continues the trace of its first event; the others' traces end at the
        // outbox (one span cannot have several parents).
        if let Some(first) = events.first() {
            crate::telemetry::continue_trace(&span, first.traceparent.as_deref());
        }
        self.0.handle_batch(events).instrument(span).await
    }
}

/// Tells customers about their orders (confirmed, shipped, delivered, return received).
/// Idempotent: the log entry and the inbox record commit together after the send, and an
/// event already in the log sends nothing (see docs/adr/011).
pub struct CustomerNotifications {
    service: crate::state::Notifications,
}

impl CustomerNotifications {
    pub const NAME: &'static str = notification::CONSUMER;

    pub fn new(store: SqlStore, notifier: Arc<dyn Notifier>) -> Self {
        Self {
            service: crate::state::notifications(store, notifier),
        }
    }
}

#[async_trait]
impl EventHandler for CustomerNotifications {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn subscriptions(&self) -> &'static [&'static str] {
        &notification::TRIGGER_EVENTS
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        use notification::{NotificationError as E, Outcome};
        match self.service.notify_for_event(event).await {
            Ok(Outcome::Recorded(status)) => {
                tracing::info!(
                    tenant = %event.tenant_id,
                    event_type = %event.event_type,
                    status = status.as_str(),
                    "customer notification"
                );
                Ok(())
            }
            Ok(Outcome::NotApplicable | Outcome::AlreadyDone) => Ok(()),
            Err(E::Malformed(e)) => Err(HandlerError::Permanent(e.to_string())),
            Err(e @ (E::Retry(_) | E::Store(_) | E::Invalid(_))) => {
                Err(HandlerError::Transient(e.to_string()))
            }
        }
    }

    /// Each tenant's events with shared look-ups (`notify_batch`). Any error sends the batch
    /// back to one event at a time; what was sent is already logged, so nobody hears twice.
    async fn handle_batch(&self, events: &[EventEnvelope]) -> Result<(), HandlerError> {
        for (tenant, events) in by_tenant(events) {
            let recorded = self
                .service
                .notify_batch(tenant, &events)
                .await
                .map_err(|e| HandlerError::Transient(e.to_string()))?;
            if recorded > 0 {
                tracing::info!(%tenant, recorded, "customer notifications");
            }
        }
        Ok(())
    }
}

/// Every consumer, wired to the store and the notifier, each running in a traced span.
pub fn all(store: &SqlStore, notifier: &Arc<dyn Notifier>) -> Vec<Arc<dyn EventHandler>> {
    let handlers: [Arc<dyn EventHandler>; 4] = [
        Arc::new(DailyOrdersProjection::new(store.clone())),
        Arc::new(WebhookFanout::new(store.clone())),
        Arc::new(BackorderAllocation::new(store.clone())),
        Arc::new(CustomerNotifications::new(store.clone(), notifier.clone())),
    ];
    handlers
        .into_iter()
        .map(|h| Arc::new(Traced(h)) as Arc<dyn EventHandler>)
        .collect()
}
