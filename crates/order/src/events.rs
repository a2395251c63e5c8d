use crate::Order;
use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, RequestContext};
use serde_json::{Value, json};

/// What happened to an order. The payload is built from the order as it stands after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    Created,
    Cancelled { reason: Option<String> },
}

impl OrderEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Created => "order.created",
            Self::Cancelled { .. } => "order.cancelled",
        }
    }

    /// The outbox form. Carries no ship-to address: events fan out to webhooks and dashboards,
    /// and personal data stays behind the authenticated order API.
    pub fn to_envelope(
        &self,
        order: &Order,
        ctx: &RequestContext,
        now: DateTime<Utc>,
    ) -> EventEnvelope {
        let mut payload = summary(order);
        if let Self::Cancelled { reason } = self {
            payload["reason"] = json!(reason);
        }
        EventEnvelope::new(
            self.event_type(),
            order.tenant_id,
            now,
            "order",
            order.id.into_uuid(),
            order.version,
            payload,
            Some(ctx.correlation_id),
        )
    }
}

fn summary(order: &Order) -> Value {
    json!({
        "order_id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "total": order.total,
        "lines": order.lines.iter().map(|l| json!({
            "line_no": l.line_no,
            "sku": l.sku,
            "quantity": l.quantity,
            "allocated": l.allocated,
            "unit_price": l.unit_price,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{line, now, order};
    use kernel::Quantity;

    #[test]
    fn the_created_event_carries_status_and_lines_but_no_address() {
        let mut o = order(vec![line("A", 2)]);
        o.allocate(&[Quantity::new(2).unwrap()], now()).unwrap();
        let ctx = RequestContext::new(o.tenant_id, "api_key:x");
        let envelope = OrderEvent::Created.to_envelope(&o, &ctx, now());
        assert_eq!(envelope.event_type, "order.created");
        assert_eq!(envelope.aggregate_id, o.id.into_uuid());
        assert_eq!(envelope.payload["status"], "allocated");
        assert_eq!(envelope.payload["lines"][0]["allocated"], 2);
        assert_eq!(envelope.correlation_id, Some(ctx.correlation_id));
        assert!(!envelope.payload.to_string().contains("Main St"));
    }
}
