//! Checkout holds: a storefront reserves stock for a few minutes while the shopper pays.
//! A hold is all-or-nothing; it ends confirmed (its reservation becomes an order's), released
//! (the shopper left) or expired (the worker gives the units back).

use chrono::{DateTime, Duration, Utc};
use kernel::{HoldId, Quantity, Sku, TenantId, ValidationErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    Active,
    Confirmed,
    Released,
    Expired,
}

impl HoldStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Confirmed => "confirmed",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "confirmed" => Self::Confirmed,
            "released" => Self::Released,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldLine {
    pub line_no: u32,
    pub sku: Sku,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub id: HoldId,
    pub tenant_id: TenantId,
    pub status: HoldStatus,
    pub lines: Vec<HoldLine>,
    /// The caller's own reference, e.g. a cart id.
    pub reference: Option<String>,
    /// The order that confirmed it.
    pub order_ref: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why a hold cannot be confirmed or released.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    #[error("hold {0} expired at {1}; place a new hold")]
    Expired(HoldId, DateTime<Utc>),
    #[error("hold {0} is already {1}")]
    NotActive(HoldId, &'static str),
    #[error("the order's lines must be exactly the hold's lines (same SKUs and quantities): {0}")]
    LinesDiffer(String),
}

pub const MIN_TTL_SECONDS: i64 = 30;
pub const MAX_TTL_SECONDS: i64 = 3_600;
pub const DEFAULT_TTL_SECONDS: i64 = 900;
const MAX_LINES: usize = 100;

/// A hold as requested, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NewHold {
    pub lines: Vec<(String, i64)>,
    pub ttl_seconds: Option<i64>,
    pub reference: Option<String>,
}

impl NewHold {
    pub fn validate(
        self,
        id: HoldId,
        tenant_id: TenantId,
        now: DateTime<Utc>,
    ) -> Result<Hold, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            errors.add("lines", format!("a hold needs 1 to {MAX_LINES} lines"));
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, (sku, quantity)) in self.lines.into_iter().enumerate() {
            let sku = errors.check(format!("lines[{i}].sku"), Sku::parse(&sku));
            let quantity = crate::validate::positive_quantity(
                &mut errors,
                format!("lines[{i}].quantity"),
                quantity,
            );
            if let (Some(sku), Some(quantity)) = (sku, quantity) {
                lines.push(HoldLine {
                    line_no: i as u32 + 1,
                    sku,
                    quantity,
                });
            }
        }
        let ttl = self.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
        if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
            errors.add(
                "ttl_seconds",
                format!("ttl_seconds must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS}"),
            );
        }
        let reference = self.reference.map(|r| r.trim().to_owned());
        if reference
            .as_ref()
            .is_some_and(|r| r.is_empty() || r.len() > 200)
        {
            errors.add("reference", "reference must be 1 to 200 characters");
        }
        errors.into_result()?;
        Ok(Hold {
            id,
            tenant_id,
            status: HoldStatus::Active,
            lines,
            reference,
            order_ref: None,
            expires_at: now + Duration::seconds(ttl),
            created_at: now,
            updated_at: now,
        })
    }
}

impl Hold {
    pub fn owner(&self) -> String {
        hold_owner(self.id)
    }

    fn ensure_active(&self, now: DateTime<Utc>) -> Result<(), HoldError> {
        if self.status != HoldStatus::Active {
            return Err(HoldError::NotActive(self.id, self.status.as_str()));
        }
        if now >= self.expires_at {
            return Err(HoldError::Expired(self.id, self.expires_at));
        }
        Ok(())
    }

    /// Hands the hold's reservation to an order whose lines are exactly the hold's.
    /// Returns, for each order line in order, the hold line it takes over.
    pub fn confirm(
        &mut self,
        order_ref: &str,
        order_lines: &[(Sku, Quantity)],
        now: DateTime<Utc>,
    ) -> Result<Vec<u32>, HoldError> {
        self.ensure_active(now)?;
        let mut unused: Vec<&HoldLine> = self.lines.iter().collect();
        let mut mapping = Vec::with_capacity(order_lines.len());
        for (sku, quantity) in order_lines {
            let Some(pos) = unused
                .iter()
                .position(|l| &l.sku == sku && l.quantity == *quantity)
            else {
                return Err(HoldError::LinesDiffer(format!(
                    "{quantity} × {sku} is not held"
                )));
            };
            mapping.push(unused.remove(pos).line_no);
        }
        if let Some(left) = unused.first() {
            return Err(HoldError::LinesDiffer(format!(
                "{} × {} is held but not ordered",
                left.quantity, left.sku
            )));
        }
        self.status = HoldStatus::Confirmed;
        self.order_ref = Some(order_ref.to_owned());
        self.updated_at = now;
        Ok(mapping)
    }

    /// The shopper left: give the units back now.
    pub fn release(&mut self, now: DateTime<Utc>) -> Result<(), HoldError> {
        if self.status != HoldStatus::Active {
            return Err(HoldError::NotActive(self.id, self.status.as_str()));
        }
        self.status = HoldStatus::Released;
        self.updated_at = now;
        Ok(())
    }

    /// The worker found it past its time.
    pub fn expire(&mut self, now: DateTime<Utc>) -> bool {
        if self.status == HoldStatus::Active && now >= self.expires_at {
            self.status = HoldStatus::Expired;
            self.updated_at = now;
            true
        } else {
            false
        }
    }
}

/// The owner name under which a hold's reservations are recorded.
pub fn hold_owner(id: HoldId) -> String {
    format!("hold:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn hold() -> Hold {
        NewHold {
            lines: vec![("A".into(), 2), ("B".into(), 1)],
            ttl_seconds: Some(60),
            reference: Some("cart-1".into()),
        }
        .validate(HoldId::new(), TenantId::new(), now())
        .unwrap()
    }

    fn l(s: &str, n: i64) -> (Sku, Quantity) {
        (Sku::parse(s).unwrap(), Quantity::new(n).unwrap())
    }

    #[test]
    fn a_hold_expires_after_its_ttl() {
        let mut h = hold();
        assert_eq!(h.expires_at, now() + Duration::seconds(60));
        assert!(!h.expire(now() + Duration::seconds(59)));
        assert!(h.expire(now() + Duration::seconds(60)));
        assert_eq!(h.status, HoldStatus::Expired);
        assert!(!h.expire(now() + Duration::seconds(61)), "expires once");
    }

    #[test]
    fn confirming_maps_order_lines_onto_held_lines_in_any_order() {
        let mut h = hold();
        let mapping = h
            .confirm("order:1", &[l("B", 1), l("A", 2)], now())
            .unwrap();
        assert_eq!(mapping, [2, 1]);
        assert_eq!(h.status, HoldStatus::Confirmed);
    }

    #[test]
    fn an_order_that_differs_from_the_hold_cannot_confirm_it() {
        for lines in [
            vec![l("A", 2)],
            vec![l("A", 3), l("B", 1)],
            vec![l("A", 2), l("B", 1), l("C", 1)],
        ] {
            let mut h = hold();
            assert!(matches!(
                h.confirm("order:1", &lines, now()),
                Err(HoldError::LinesDiffer(_))
            ));
            assert_eq!(h.status, HoldStatus::Active);
        }
    }

    #[test]
    fn an_expired_or_ended_hold_cannot_be_confirmed() {
        let mut h = hold();
        assert!(matches!(
            h.confirm(
                "order:1",
                &[l("A", 2), l("B", 1)],
                now() + Duration::seconds(60)
            ),
            Err(HoldError::Expired(..))
        ));
        h.release(now()).unwrap();
        assert!(matches!(
            h.confirm("order:1", &[l("A", 2), l("B", 1)], now()),
            Err(HoldError::NotActive(_, "released"))
        ));
    }

    #[test]
    fn ttl_and_lines_are_checked() {
        let err = NewHold {
            lines: vec![("A".into(), 0)],
            ttl_seconds: Some(5),
            reference: None,
        }
        .validate(HoldId::new(), TenantId::new(), now())
        .unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lines[0].quantity", "ttl_seconds"]);
    }
}
