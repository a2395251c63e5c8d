//! Which events tell a customer something, and what the template gets to say it with.
//! Events carry no personal data: the recipient is looked up by order id through a port.

use crate::kind::MessageKind;
use kernel::EventEnvelope;
use serde_json::{Value, json};
use uuid::Uuid;

/// The event types that lead to a message.
pub const TRIGGER_EVENTS: [&str; 5] = [
    "order.created",
    "order.shipped",
    "order.delivered",
    "return.received",
    "webhook.disabled",
];

/// What an event asks to send: which kind, about which order, with which variables (all but
/// the recipient's name, which comes with the recipient).
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub kind: MessageKind,
    /// The order whose customer is told; `None` for messages to the account owner.
    pub order_id: Option<Uuid>,
    pub variables: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event_type} event has no usable {field}")]
pub struct MalformedEvent {
    pub event_type: String,
    pub field: &'static str,
}

/// The message an event asks for: `Ok(None)` for events no customer hears about.
pub fn trigger_for(event: &EventEnvelope) -> Result<Option<Trigger>, MalformedEvent> {
    if event.event_type == "webhook.disabled" {
        return owner_alert(event).map(Some);
    }
    let kind = match event.event_type.as_str() {
        "order.created" => MessageKind::OrderConfirmed,
        "order.shipped" => MessageKind::OrderShipped,
        "order.delivered" => MessageKind::OrderDelivered,
        "return.received" => MessageKind::ReturnReceived,
        _ => return Ok(None),
    };
    let p = &event.payload;
    let malformed = |field| MalformedEvent {
        event_type: event.event_type.clone(),
        field,
    };
    let order_id = p["order_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| malformed("order_id"))?;
    let order_ref = p["external_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map_or_else(|| order_id.to_string(), str::to_owned);
    let mut vars = json!({
        "order_id": order_id,
        "order_ref": order_ref,
        "channel": p["channel"],
        "lines": lines(&p["lines"]),
    });
    if let Some(total) = money(&p["total"]) {
        vars["total"] = json!(total);
    }
    match kind {
        MessageKind::OrderShipped => {
            let s = &p["shipment"];
            if !s.is_object() {
                return Err(malformed("shipment"));
            }
            for field in ["carrier", "service", "tracking_number", "tracking_url"] {
                vars[field] = s[field].clone();
            }
            vars["shipment_id"] = s["shipment_id"].clone();
            vars["shipment_lines"] = json!(lines(&s["lines"]));
        }
        MessageKind::ReturnReceived => {
            vars["return_id"] = p["return_id"].clone();
            vars["rma_number"] = p["rma_number"].clone();
        }
        MessageKind::OrderConfirmed
        | MessageKind::OrderDelivered
        | MessageKind::WebhookDisabled => {}
    }
    Ok(Some(Trigger {
        kind,
        order_id: Some(order_id),
        variables: vars,
    }))
}

/// `webhook.disabled`: which endpoint, and the error it last gave.
fn owner_alert(event: &EventEnvelope) -> Result<Trigger, MalformedEvent> {
    let p = &event.payload;
    let url = p["url"].as_str().ok_or_else(|| MalformedEvent {
        event_type: event.event_type.clone(),
        field: "url",
    })?;
    Ok(Trigger {
        kind: MessageKind::WebhookDisabled,
        order_id: None,
        variables: json!({
            "subscription_id": p["subscription_id"],
            "url": url,
            "last_error": p["last_error"].as_str().unwrap_or("unknown"),
        }),
    })
}

/// Line number, SKU and quantity of each line; anything else an event carries stays out.
fn lines(raw: &Value) -> Vec<Value> {
    raw.as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| json!({"line_no": l["line_no"], "sku": l["sku"], "quantity": l["quantity"]}))
                .collect()
        })
        .unwrap_or_default()
}

/// `{"amount_minor": 2598, "currency": "GBP"}` → `25.98 GBP`, with the currency's decimals.
pub fn money(raw: &Value) -> Option<String> {
    let minor = raw["amount_minor"].as_i64()?;
    let currency = raw["currency"].as_str()?;
    let decimals: u32 = match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    };
    if decimals == 0 {
        return Some(format!("{minor} {currency}"));
    }
    let unit = 10_i64.pow(decimals);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, frac) = (
        minor.unsigned_abs() / unit as u64,
        minor.unsigned_abs() % unit as u64,
    );
    Some(format!(
        "{sign}{whole}.{frac:0width$} {currency}",
        width = decimals as usize
    ))
}

#[cfg(test)]
mod tests;
