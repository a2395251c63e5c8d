//! A parcel leaving for an order: which lines, how many units, and how to track it.

use chrono::{DateTime, Utc};
use kernel::{OrderId, Quantity, ShipmentId, Sku, ValidationErrors};

/// A shipment as the caller reports it, before it is checked against the order.
#[derive(Debug, Clone, Default)]
pub struct NewShipment {
    pub carrier: String,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    /// `(line_no, quantity)`.
    pub lines: Vec<(u32, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentLine {
    pub line_no: u32,
    pub sku: Sku,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub id: ShipmentId,
    pub order_id: OrderId,
    pub carrier: String,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub lines: Vec<ShipmentLine>,
    pub shipped_at: DateTime<Utc>,
}

impl NewShipment {
    /// Checks what does not depend on the order: carrier, tracking fields, line shapes.
    pub(crate) fn check_fields(&self, errors: &mut ValidationErrors) {
        let carrier = self.carrier.trim();
        if carrier.is_empty() || carrier.chars().count() > 64 {
            errors.add("carrier", "carrier must be 1 to 64 characters, e.g. ups");
        }
        for (field, value, max) in [
            ("service", &self.service, 64),
            ("tracking_number", &self.tracking_number, 64),
            ("tracking_url", &self.tracking_url, 500),
        ] {
            if let Some(v) = value
                && (v.trim().is_empty() || v.chars().count() > max)
            {
                errors.add(field, format!("{field} must be 1 to {max} characters"));
            }
        }
        if let Some(url) = &self.tracking_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            errors.add("tracking_url", "tracking_url must be an http(s) address");
        }
        if self.lines.is_empty() {
            errors.add("lines", "a shipment needs at least one line");
        }
        for (i, (line_no, quantity)) in self.lines.iter().enumerate() {
            if *quantity < 1 {
                errors.add(
                    format!("lines[{i}].quantity"),
                    "quantity must be at least 1",
                );
            }
            if self.lines[..i].iter().any(|(other, _)| other == line_no) {
                errors.add(
                    format!("lines[{i}].line_no"),
                    "each line may appear once per shipment",
                );
            }
        }
    }
}
