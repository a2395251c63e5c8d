//! Templates: a subject and a plain-text body per kind, written in Jinja (rendered with
//! minijinja). Defaults ship with Tote; a tenant may override any kind, and an override is
//! checked when it is saved: it must parse and render against the kind's variables.

use crate::kind::MessageKind;
use kernel::ValidationErrors;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde_json::json;

/// Longest subject and body accepted, in characters.
pub const MAX_SUBJECT: usize = 200;
pub const MAX_BODY: usize = 20_000;

/// A subject and body for one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub kind: MessageKind,
    pub subject: String,
    pub body: String,
}

/// A rendered message: what the customer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {field} template of {kind} cannot be rendered: {message}")]
pub struct RenderError {
    pub kind: MessageKind,
    pub field: &'static str,
    pub message: String,
}

impl Template {
    /// The template Tote uses when the tenant has none.
    pub fn default_for(kind: MessageKind) -> Self {
        let (subject, body) = match kind {
            MessageKind::OrderConfirmed => (
                "Your order {{ order_ref }} is confirmed",
                "Hello {{ customer_name }},\n\n\
                 Thank you for your order {{ order_ref }}. We have it and are getting it ready.\n\n\
                 {% for line in lines %}  {{ line.quantity }} x {{ line.sku }}\n{% endfor %}\n\
                 Total: {{ total }}\n\n\
                 We will write again when it ships.\n",
            ),
            MessageKind::OrderShipped => (
                "Your order {{ order_ref }} has shipped",
                "Hello {{ customer_name }},\n\n\
                 Your order {{ order_ref }} is on its way with {{ carrier }}{% if service %} ({{ service }}){% endif %}.\n\n\
                 {% for line in shipment_lines %}  {{ line.quantity }} x {{ line.sku }}\n{% endfor %}\n\
                 {% if tracking_number %}Tracking number: {{ tracking_number }}\n{% endif %}\
                 {% if tracking_url %}Track it: {{ tracking_url }}\n{% endif %}",
            ),
            MessageKind::OrderDelivered => (
                "Your order {{ order_ref }} has been delivered",
                "Hello {{ customer_name }},\n\n\
                 Your order {{ order_ref }} has been delivered. We hope you enjoy it.\n",
            ),
            MessageKind::ReturnReceived => (
                "We have received your return {{ rma_number }}",
                "Hello {{ customer_name }},\n\n\
                 We have received your return {{ rma_number }} for order {{ order_ref }}:\n\n\
                 {% for line in lines %}  {{ line.quantity }} x {{ line.sku }}\n{% endfor %}\n\
                 We will let you know once it has been checked.\n",
            ),
            MessageKind::WebhookDisabled => (
                "Tote turned off your webhook endpoint {{ url }}",
                "Hello {{ customer_name }},\n\n\
                 Tote stopped sending events to your webhook endpoint\n\n  {{ url }}\n\n\
                 because every delivery failed for a long time. The last error was:\n\n  {{ last_error }}\n\n\
                 No events are lost: fix the endpoint, create the subscription again \
                 (POST /api/v1/webhooks), then replay what it missed from the delivery log \
                 (GET /api/v1/webhooks/{id}/deliveries).\n",
            ),
        };
        Self {
            kind,
            subject: subject.to_owned(),
            body: body.to_owned(),
        }
    }

    /// A tenant's template as sent: trimmed subject, bounded sizes, valid Jinja, and only the
    /// kind's variables. Every problem is reported under the field (`subject`, `body`).
    pub fn parse(kind: MessageKind, subject: &str, body: &str) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let subject = subject.trim().to_owned();
        if subject.is_empty() {
            errors.add("subject", "subject is required");
        } else if subject.chars().count() > MAX_SUBJECT {
            errors.add(
                "subject",
                format!("subject must be at most {MAX_SUBJECT} characters"),
            );
        } else if subject.contains(['\r', '\n']) {
            errors.add("subject", "subject must be one line");
        }
        if body.trim().is_empty() {
            errors.add("body", "body is required");
        } else if body.chars().count() > MAX_BODY {
            errors.add(
                "body",
                format!("body must be at most {MAX_BODY} characters"),
            );
        }
        let template = Self {
            kind,
            subject,
            body: body.to_owned(),
        };
        if errors.is_empty() {
            // Strict: a misspelt variable is an error now, not a blank in a customer's inbox.
            let sample = Value::from_serialize(sample_variables(kind));
            for (field, source) in [("subject", &template.subject), ("body", &template.body)] {
                if let Err(e) = render_one(source, &sample, UndefinedBehavior::Strict) {
                    errors.add(field, format!("{field} is not a valid template: {e}"));
                }
            }
        }
        errors.into_result().map(|()| template)
    }

    /// Renders with `variables` (a JSON object). Lenient at send time: a missing value renders
    /// empty rather than losing the message. The subject is folded onto one line.
    pub fn render(&self, variables: &serde_json::Value) -> Result<Rendered, RenderError> {
        let ctx = Value::from_serialize(variables);
        let fail = |field, e: minijinja::Error| RenderError {
            kind: self.kind,
            field,
            message: e.to_string(),
        };
        let subject = render_one(&self.subject, &ctx, UndefinedBehavior::Lenient)
            .map_err(|e| fail("subject", e))?;
        let body = render_one(&self.body, &ctx, UndefinedBehavior::Lenient)
            .map_err(|e| fail("body", e))?;
        Ok(Rendered {
            subject: subject
                .split(['\r', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            body,
        })
    }
}

fn render_one(
    source: &str,
    ctx: &Value,
    undefined: UndefinedBehavior,
) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    // Plain text: nothing to escape, and generous enough for any honest template.
    env.set_recursion_limit(32);
    env.render_str(source, ctx)
}

/// The variables a kind's template gets, with example values: used to check templates when
/// they are saved, and documented by the API.
pub fn sample_variables(kind: MessageKind) -> serde_json::Value {
    let mut vars = json!({
        "order_id": "01933b8e-0000-7000-8000-000000000000",
        "order_ref": "#1001",
        "channel": "shopify",
        "customer_name": "Ada Lovelace",
        "total": "25.98 GBP",
        "lines": [{"line_no": 1, "sku": "SOCK-RED-M", "quantity": 2}],
    });
    match kind {
        MessageKind::OrderConfirmed | MessageKind::OrderDelivered => {}
        MessageKind::OrderShipped => {
            vars["carrier"] = json!("Royal Mail");
            vars["service"] = json!("Tracked 48");
            vars["tracking_number"] = json!("RM123456785GB");
            vars["tracking_url"] = json!("https://track.example/RM123456785GB");
            vars["shipment_lines"] = json!([{"line_no": 1, "sku": "SOCK-RED-M", "quantity": 2}]);
        }
        MessageKind::WebhookDisabled => {
            return json!({
                "customer_name": "Acme Socks",
                "subscription_id": "01933b8e-0000-7000-8000-000000000002",
                "url": "https://hooks.example.com/tote",
                "last_error": "HTTP 500",
            });
        }
        MessageKind::ReturnReceived => {
            vars["return_id"] = json!("01933b8e-0000-7000-8000-000000000001");
            vars["rma_number"] = json!("RMA-1001");
            vars.as_object_mut().map(|o| o.remove("total"));
        }
    }
    vars
}

#[cfg(test)]
mod tests;
