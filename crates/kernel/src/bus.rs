//! Ports of the event pipeline: the outbox relay hands events to an [`EventPublisher`]
//! (RabbitMQ, or in-process), and consumers run [`EventHandler`]s on what arrives.

use crate::{EventEnvelope, EventId};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PublishError(pub String);

/// What a publish achieved: the events the broker confirmed (a prefix of those given, in
/// order), and why it stopped early, if it did.
#[derive(Debug, Default)]
pub struct PublishOutcome {
    pub confirmed: Vec<EventId>,
    pub error: Option<PublishError>,
}

/// Hands events on. An event counts as published only once it is in `confirmed`: the relay
/// marks nothing else, so a broker that goes away loses nothing.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[EventEnvelope]) -> PublishOutcome;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (a database blip); redelivered until the delivery limit, then dead-lettered.
    #[error("transient: {0}")]
    Transient(String),
    /// Will never succeed (a malformed payload); dead-lettered at once.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// A consumer of events. Must be idempotent: delivery is at least once, so a handler records
/// the event id in its inbox in the same transaction as its effect.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Stable name: the queue, inbox and dead-letter records are keyed by it.
    fn name(&self) -> &'static str;
    /// Routing keys it subscribes to, e.g. `order.*` or `#`.
    fn subscriptions(&self) -> &'static [&'static str];
    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError>;
    /// Handles several events (in order) at once, all or nothing: a handler that can do a
    /// batch in one transaction overrides this; on an error the caller falls back to
    /// [`handle`](Self::handle) one event at a time, so a bad event is retried and
    /// dead-lettered on its own.
    async fn handle_batch(&self, events: &[EventEnvelope]) -> Result<(), HandlerError> {
        for event in events {
            self.handle(event).await?;
        }
        Ok(())
    }
}

/// Whether a dotted event type matches a topic pattern (`*` one word, `#` any number).
pub fn topic_matches(pattern: &str, event_type: &str) -> bool {
    fn go(p: &[&str], t: &[&str]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let t: Vec<&str> = event_type.split('.').collect();
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns_match_like_rabbitmq() {
        assert!(topic_matches("order.*", "order.created"));
        assert!(!topic_matches("order.*", "order.line.added"));
        assert!(topic_matches("#", "inventory.changed"));
        assert!(topic_matches("order.#", "order.line.added"));
        assert!(!topic_matches("order.*", "inventory.changed"));
        assert!(topic_matches("order.created", "order.created"));
    }
}
