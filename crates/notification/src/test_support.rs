use kernel::{EventEnvelope, TenantId};
use serde_json::Value;
use uuid::Uuid;

pub fn envelope(event_type: &str, payload: Value) -> EventEnvelope {
    envelope_for(TenantId::new(), event_type, payload)
}

pub fn envelope_for(tenant: TenantId, event_type: &str, payload: Value) -> EventEnvelope {
    EventEnvelope::new(
        event_type,
        tenant,
        chrono::Utc::now(),
        "order",
        Uuid::now_v7(),
        1,
        payload,
        None,
    )
}
