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
/// The wait after a round that found events but not a full batch. While orders flow, a
/// batch every 80 ms rather than a quarter second's worth at once, whose consumers would take
/// the CPU from requests in one burst (ADR 022); not every 25 ms either, where each round's
/// fixed cost (the claim, one transaction per consumer) cost 5–13 % more CPU per order at a
/// paced load (ADR 022's addendum).
const BUSY_POLL: Duration = Duration::from_millis(80);
/// Tries of an in-process handler before its event is dead-lettered (as RabbitMQ's limit).
const IN_PROCESS_DELIVERY_LIMIT: u32 = 5;

/// Runs relay rounds for ever: immediately again while there is a backlog, every
/// [`BUSY_POLL`] (or `poll`, if shorter) while events trickle in, every `poll` when idle, and
/// with exponential backoff while the publisher or database fails.
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
                    match round.claimed as u64 {
                        BATCH => continue,
                        0 => {}
                        _ => {
                            tokio::time::sleep(BUSY_POLL.min(poll)).await;
                            continue;
                        }
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
    /// Each consumer is its own queue, as on RabbitMQ: they take the batch side by side, each
    /// in event order, first as one [`handle_batch`](EventHandler::handle_batch) and, should
    /// that fail, one event at a time with retries and dead-lettering. An event is confirmed
    /// once every consumer has it; after a failure only the events before it are.
    async fn publish(&self, events: &[EventEnvelope]) -> PublishOutcome {
        let results = futures::future::join_all(
            self.handlers
                .iter()
                .map(|handler| self.deliver_all(handler.as_ref(), events)),
        )
        .await;
        let mut outcome = PublishOutcome::default();
        let mut confirmed = events.len();
        for (failed_at, error) in results.into_iter().flatten() {
            if failed_at < confirmed {
                confirmed = failed_at;
                outcome.error = Some(error);
            }
        }
        outcome.confirmed = events[..confirmed].iter().map(|e| e.id).collect();
        outcome
    }
}

impl InProcessPublisher {
    /// Hands `handler` the events it subscribes to. `Some((i, error))`: `events[i]` could be
    /// neither handled nor dead-lettered, so neither it nor any later one counts as delivered.
    async fn deliver_all(
        &self,
        handler: &dyn EventHandler,
        events: &[EventEnvelope],
    ) -> Option<(usize, PublishError)> {
        let wanted: Vec<usize> = (0..events.len())
            .filter(|&i| {
                handler
                    .subscriptions()
                    .iter()
                    .any(|pattern| topic_matches(pattern, &events[i].event_type))
            })
            .collect();
        if wanted.is_empty() {
            return None;
        }
        let batch: Vec<EventEnvelope> = wanted.iter().map(|&i| events[i].clone()).collect();
        if batch.len() > 1 && handler.handle_batch(&batch).await.is_ok() {
            return None;
        }
        for &i in &wanted {
            if let Err(e) = self.deliver(handler, &events[i]).await {
                return Some((i, e));
            }
        }
        None
    }
}
