//! The outbox relay loop, and the in-process publisher used when `AMQP_URL` is unset.
//!
//! Events are durable in the outbox table before the relay sees them, so a crash here loses
//! nothing: unconfirmed events are simply handed on again after restart.

use async_trait::async_trait;
use kernel::{
    EventEnvelope, EventHandler, EventPublisher, HandlerError, PublishError, PublishOutcome,
    topic_matches,
};
use sql::SqlStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

const BATCH: u64 = 200;
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Tries of an in-process handler before its event is dead-lettered (as RabbitMQ's limit).
const IN_PROCESS_DELIVERY_LIMIT: u32 = 5;

/// Runs relay rounds for ever: immediately again while there is a backlog, every `poll` when
/// idle, and with exponential backoff while the publisher or database fails.
pub fn spawn(
    store: SqlStore,
    publisher: Arc<dyn EventPublisher>,
    poll: Duration,
    metrics: Option<crate::metrics::Metrics>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = poll;
        loop {
            let round = store.relay_round(publisher.as_ref(), BATCH).await;
            if let (Ok(round), Some(metrics)) = (&round, &metrics) {
                metrics.observe_publish(&round.lag_seconds);
            }
            match round {
                Ok(round) if round.error.is_none() => {
                    backoff = poll;
                    if round.claimed as u64 == BATCH {
                        continue;
                    }
                }
                Ok(round) => {
                    tracing::warn!(
                        published = round.published,
                        error = %round.error.unwrap_or(PublishError(String::new())),
                        "outbox relay could not publish everything; will retry"
                    );
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay failed; will retry");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            tokio::time::sleep(backoff).await;
        }
    })
}

/// The embedded default's "broker": runs the consumers in this process, with the same
/// delivery limit and dead-lettering as RabbitMQ.
pub struct InProcessPublisher {
    store: SqlStore,
    handlers: Vec<Arc<dyn EventHandler>>,
}

impl InProcessPublisher {
    pub fn new(store: SqlStore, handlers: Vec<Arc<dyn EventHandler>>) -> Self {
        Self { store, handlers }
    }

    async fn deliver(
        &self,
        handler: &dyn EventHandler,
        event: &EventEnvelope,
    ) -> Result<(), PublishError> {
        let mut last = String::new();
        for attempt in 1..=IN_PROCESS_DELIVERY_LIMIT {
            match handler.handle(event).await {
                Ok(()) => return Ok(()),
                Err(HandlerError::Permanent(reason)) => {
                    last = reason;
                    break;
                }
                Err(HandlerError::Transient(reason)) => {
                    last = reason;
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                }
            }
        }
        tracing::error!(consumer = handler.name(), event_id = %event.id, error = %last, "dead-lettered");
        self.store
            .record_dead_letter(handler.name(), event, &last)
            .await
            .map_err(|e| PublishError(format!("cannot record dead letter: {e}")))
    }
}

#[async_trait]
impl EventPublisher for InProcessPublisher {
    async fn publish(&self, events: &[EventEnvelope]) -> PublishOutcome {
        let mut outcome = PublishOutcome::default();
        for event in events {
            for handler in &self.handlers {
                if !handler
                    .subscriptions()
                    .iter()
                    .any(|pattern| topic_matches(pattern, &event.event_type))
                {
                    continue;
                }
                if let Err(e) = self.deliver(handler.as_ref(), event).await {
                    outcome.error = Some(e);
                    return outcome;
                }
            }
            outcome.confirmed.push(event.id);
        }
        outcome
    }
}
