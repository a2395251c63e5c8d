use crate::Order;
use crate::shipment::Shipment;
use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, RequestContext};
use serde_json::{Value, json};

/// What happened to an order. The payload is built from the order as it stands after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    Created,
    /// Stock arrived for a backorder.
    Allocated,
    Updated {
        changed: Vec<String>,
    },
    Held,
    Released,
    PickingStarted,
    /// The picker found fewer units than were reserved: the line lost them to a backorder.
    ShortPicked {
        line_no: u32,
        units: kernel::Quantity,
        reason: String,
    },
    Packed,
    /// One per parcel.
    Shipped(Box<Shipment>),
    Delivered,
    Cancelled {
        reason: Option<String>,
    },
}

impl OrderEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Created => "order.created",
            Self::Allocated => "order.allocated",
            Self::Updated { .. } => "order.updated",
            Self::Held => "order.held",
            Self::Released => "order.released",
            Self::PickingStarted => "order.picking",
            Self::ShortPicked { .. } => "order.short_picked",
            Self::Packed => "order.packed",
            Self::Shipped(_) => "order.shipped",
            Self::Delivered => "order.delivered",
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
        match self {
            Self::Cancelled { reason } => payload["reason"] = json!(reason),
            Self::Updated { changed } => payload["changed"] = json!(changed),
            Self::Held => {
                payload["reason"] = json!(order.hold.as_ref().map(|h| h.reason.clone()));
            }
            Self::Shipped(shipment) => payload["shipment"] = shipment_json(shipment),
            Self::ShortPicked {
                line_no,
                units,
                reason,
            } => {
                payload["short"] = json!({ "line_no": line_no, "units": units, "reason": reason });
            }
            _ => {}
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

impl OrderEvent {
    /// A parcel also announces itself as `shipment.created` (its own aggregate, version 1),
    /// for consumers that follow shipments rather than orders (live updates, channels).
    pub fn shipment_envelope(
        &self,
        order: &Order,
        ctx: &RequestContext,
        now: DateTime<Utc>,
    ) -> Option<EventEnvelope> {
        let Self::Shipped(shipment) = self else {
            return None;
        };
        let mut payload = shipment_json(shipment);
        payload["order_id"] = json!(order.id);
        payload["external_id"] = json!(order.external_id);
        payload["order_status"] = json!(order.status);
        Some(EventEnvelope::new(
            "shipment.created",
            order.tenant_id,
            now,
            "shipment",
            shipment.id.into_uuid(),
            1,
            payload,
            Some(ctx.correlation_id),
        ))
    }
}

fn summary(order: &Order) -> Value {
    json!({
        "order_id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "service_level": order.service_level,
        "ship_by": order.ship_by,
        "total": order.total,
        "lines": order.lines.iter().map(|l| json!({
            "line_no": l.line_no,
            "sku": l.sku,
            "quantity": l.quantity,
            "allocated": l.allocated,
            "shipped": l.shipped,
            "unit_price": l.unit_price,
        })).collect::<Vec<_>>(),
    })
}

fn shipment_json(s: &Shipment) -> Value {
    json!({
        "shipment_id": s.id,
        "carrier": s.carrier,
        "service": s.service,
        "tracking_number": s.tracking_number,
        "tracking_url": s.tracking_url,
        "lines": s.lines.iter().map(|l| json!({
            "line_no": l.line_no,
            "sku": l.sku,
            "quantity": l.quantity,
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
        o.allocate(&[Quantity::new(2).unwrap()], crate::Cutoff::DEFAULT, now())
            .unwrap();
        let ctx = RequestContext::new(o.tenant_id, "api_key:x");
        let envelope = OrderEvent::Created.to_envelope(&o, &ctx, now());
        assert_eq!(envelope.event_type, "order.created");
        assert_eq!(envelope.aggregate_id, o.id.into_uuid());
        assert_eq!(envelope.payload["status"], "allocated");
        assert_eq!(envelope.payload["lines"][0]["allocated"], 2);
        assert_eq!(envelope.correlation_id, Some(ctx.correlation_id));
        assert!(!envelope.payload.to_string().contains("Main St"));
        assert!(
            OrderEvent::Created
                .shipment_envelope(&o, &ctx, now())
                .is_none()
        );
    }

    #[test]
    fn a_parcel_is_announced_as_its_own_shipment_created_event() {
        let mut o = order(vec![line("A", 2)]);
        o.allocate(&[Quantity::new(2).unwrap()], crate::Cutoff::DEFAULT, now())
            .unwrap();
        let shipment = Shipment {
            id: kernel::ShipmentId::new(),
            order_id: o.id,
            carrier: "ups".into(),
            service: None,
            tracking_number: Some("1Z1".into()),
            tracking_url: None,
            lines: vec![],
            shipped_at: now(),
        };
        let ctx = RequestContext::new(o.tenant_id, "api_key:x");
        let e = OrderEvent::Shipped(Box::new(shipment.clone()))
            .shipment_envelope(&o, &ctx, now())
            .expect("a shipment event");
        assert_eq!(e.event_type, "shipment.created");
        assert_eq!(e.aggregate_type, "shipment");
        assert_eq!(e.aggregate_id, shipment.id.into_uuid());
        assert_eq!(e.payload["order_id"], json!(o.id));
        assert_eq!(e.payload["tracking_number"], "1Z1");
        assert!(!e.payload.to_string().contains("Main St"), "no address");
    }
}
