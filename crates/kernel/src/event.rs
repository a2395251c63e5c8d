use crate::{EventId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Ties together everything one request (or one upstream event) caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CorrelationId(pub Uuid);

impl CorrelationId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for CorrelationId {
    fn default() -> Self {
        Self::new()
    }
}

/// The one shape every domain event travels in: through the outbox, over the broker, to webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub id: EventId,
    /// Dotted name, e.g. `order.created`; also the broker routing key.
    #[serde(rename = "type")]
    pub event_type: String,
    pub tenant_id: TenantId,
    pub occurred_at: DateTime<Utc>,
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    /// The aggregate's version after this event: consumers use it to keep per-aggregate order.
    pub version: i64,
    pub payload: serde_json::Value,
    pub correlation_id: Option<CorrelationId>,
    /// The W3C trace context of the work that caused the event, when tracing is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl EventEnvelope {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        event_type: impl Into<String>,
        tenant_id: TenantId,
        occurred_at: DateTime<Utc>,
        aggregate_type: impl Into<String>,
        aggregate_id: Uuid,
        version: i64,
        payload: serde_json::Value,
        correlation_id: Option<CorrelationId>,
    ) -> Self {
        Self {
            id: EventId::new(),
            event_type: event_type.into(),
            tenant_id,
            occurred_at,
            aggregate_type: aggregate_type.into(),
            aggregate_id,
            version,
            payload,
            correlation_id,
            traceparent: crate::trace::current_traceparent(),
        }
    }
}
