//! The in-process outbox relay, for the embedded default (no `AMQP_URL`): hands committed
//! events to subscribers in this process and marks them published. Events are already durable
//! in the outbox table, so a crash here loses nothing: they are handed on after restart.

use kernel::{Clock, EventEnvelope, SystemClock};
use sql::SqlStore;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

const BATCH: u64 = 200;

/// In-process subscribers get every event through this (at least once).
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<EventEnvelope>,
}

impl EventBus {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(4_096).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.sender.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

pub fn spawn(store: SqlStore, bus: EventBus, poll: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match relay_once(&store, &bus).await {
                Ok(n) if n as u64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox relay failed; retrying"),
            }
            tokio::time::sleep(poll).await;
        }
    })
}

/// Hands on one batch; returns how many events it handled.
pub async fn relay_once(store: &SqlStore, bus: &EventBus) -> Result<usize, kernel::StoreError> {
    let events = store.unpublished_events(BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let ids: Vec<_> = events.iter().map(|e| e.id).collect();
    for event in events {
        tracing::debug!(event_type = %event.event_type, event_id = %event.id, "event");
        // No subscriber is fine: the event stays in the outbox table for later consumers.
        let _ = bus.sender.send(event);
    }
    store.mark_published(&ids, SystemClock.now()).await?;
    Ok(ids.len())
}
