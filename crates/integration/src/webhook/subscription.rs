use chrono::{DateTime, Utc};
use kernel::{TenantId, ValidationErrors, topic_matches};
use uuid::Uuid;

use super::WebhookUrl;

/// Failed attempts in a row (across deliveries, no success between) after which an endpoint is
/// disabled and its owner told: about two days of a dead endpoint.
pub const DISABLE_AFTER_CONSECUTIVE_FAILURES: u32 = 40;

/// Which events a subscription wants: `order.created`, `order.*` or `#` (everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPattern(String);

impl EventPattern {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw.split('.').all(|word| {
                word == "*"
                    || word == "#"
                    || (!word.is_empty()
                        && word.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            });
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "{raw:?} is not an event type pattern; use e.g. order.created, order.* or #"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A seller's webhook endpoint and what it listens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub url: WebhookUrl,
    pub events: Vec<EventPattern>,
    pub active: bool,
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
}

impl Subscription {
    pub fn new(
        tenant_id: TenantId,
        url: &str,
        events: &[String],
        allow_private: bool,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let url = errors.check("url", WebhookUrl::parse(url, allow_private));
        if events.is_empty() || events.len() > 50 {
            errors.add("events", "list 1 to 50 event types, e.g. [\"order.*\"]");
        }
        let events: Vec<EventPattern> = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| errors.check(format!("events[{i}]"), EventPattern::parse(e)))
            .collect();
        errors.into_result()?;
        Ok(Self {
            id: Uuid::now_v7(),
            tenant_id,
            url: url.expect("checked"),
            events,
            active: true,
            consecutive_failures: 0,
            created_at: now,
        })
    }

    /// A fresh signing secret (`whsec_` + 192 random bits), shown to the seller once.
    pub fn new_secret() -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        format!("whsec_{}", hex::encode(bytes))
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.active
            && self
                .events
                .iter()
                .any(|p| topic_matches(p.as_str(), event_type))
    }

    pub fn record_success(&mut self) {
        self.consecutive_failures = 0;
    }

    /// Counts a failed attempt; true when this one disables the endpoint.
    pub fn record_failure(&mut self) -> bool {
        self.consecutive_failures += 1;
        if self.active && self.consecutive_failures >= DISABLE_AFTER_CONSECUTIVE_FAILURES {
            self.active = false;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(events: &[&str]) -> Result<Subscription, ValidationErrors> {
        let events: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        Subscription::new(
            TenantId::new(),
            "https://hooks.example.com/t",
            &events,
            false,
            Utc::now(),
        )
    }

    #[test]
    fn a_subscription_matches_its_patterns_only() {
        let s = sub(&["order.*", "inventory.low_stock"]).unwrap();
        assert!(s.wants("order.created"));
        assert!(s.wants("inventory.low_stock"));
        assert!(!s.wants("inventory.changed"));
    }

    #[test]
    fn bad_patterns_and_private_urls_are_all_reported() {
        let errors = Subscription::new(
            TenantId::new(),
            "http://10.0.0.5/hook",
            &["Order.Created".into(), "".into()],
            false,
            Utc::now(),
        )
        .unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["url", "events[0]", "events[1]"]);
        assert!(sub(&[]).is_err());
    }

    #[test]
    fn an_endpoint_failing_too_often_in_a_row_is_disabled_once_and_a_success_resets_it() {
        let mut s = sub(&["#"]).unwrap();
        for _ in 0..DISABLE_AFTER_CONSECUTIVE_FAILURES - 1 {
            assert!(!s.record_failure());
        }
        s.record_success();
        assert_eq!(s.consecutive_failures, 0);
        let disabled: Vec<bool> = (0..DISABLE_AFTER_CONSECUTIVE_FAILURES + 3)
            .map(|_| s.record_failure())
            .collect();
        assert_eq!(disabled.iter().filter(|d| **d).count(), 1);
        assert!(!s.active);
        assert!(
            !s.wants("order.created"),
            "a disabled endpoint gets nothing"
        );
    }
}
