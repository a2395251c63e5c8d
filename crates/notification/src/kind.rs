use serde::{Deserialize, Serialize};
use std::fmt;

/// What a customer is told about. Each kind has a default template and may have one template
/// per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    OrderConfirmed,
    OrderShipped,
    OrderDelivered,
    ReturnReceived,
    /// To the account owner, not a customer: a webhook endpoint kept failing and was turned off.
    WebhookDisabled,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown notification kind {0:?}: use order_confirmed, order_shipped, order_delivered, return_received or webhook_disabled"
)]
pub struct UnknownKind(pub String);

impl MessageKind {
    /// Every kind, in the order they happen to an order.
    pub const ALL: [MessageKind; 5] = [
        Self::OrderConfirmed,
        Self::OrderShipped,
        Self::OrderDelivered,
        Self::ReturnReceived,
        Self::WebhookDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderConfirmed => "order_confirmed",
            Self::OrderShipped => "order_shipped",
            Self::OrderDelivered => "order_delivered",
            Self::ReturnReceived => "return_received",
            Self::WebhookDisabled => "webhook_disabled",
        }
    }

    /// Who reads it: an order's customer, or the account owner.
    pub fn is_for_account_owner(self) -> bool {
        matches!(self, Self::WebhookDisabled)
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim())
            .ok_or_else(|| UnknownKind(raw.to_owned()))
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_back_from_its_name() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Ok(kind));
        }
        assert_eq!(
            MessageKind::parse("order_lost"),
            Err(UnknownKind("order_lost".into()))
        );
    }
}
