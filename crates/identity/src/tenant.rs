use chrono::{DateTime, Utc};
use kernel::{TenantId, ValidationErrors};

/// A seller: the unit of isolation. Every other record belongs to exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub company: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// What a tenant's plan allows; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    pub orders_per_day: Option<i64>,
    pub max_skus: Option<i64>,
}

/// A plan limit that a request would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub limit: i64,
}

impl Plan {
    /// May one more order be placed when `today` were placed already today (UTC)?
    pub fn admit_order(&self, today: i64) -> Result<(), QuotaExceeded> {
        admit(self.orders_per_day, today)
    }

    /// May one more SKU be created when the catalogue holds `skus`?
    pub fn admit_sku(&self, skus: i64) -> Result<(), QuotaExceeded> {
        admit(self.max_skus, skus)
    }
}

fn admit(limit: Option<i64>, used: i64) -> Result<(), QuotaExceeded> {
    match limit {
        Some(limit) if used >= limit => Err(QuotaExceeded { limit }),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone)]
pub struct NewTenant {
    pub company: String,
    pub email: String,
}

impl NewTenant {
    pub fn validate(self, id: TenantId, now: DateTime<Utc>) -> Result<Tenant, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let company = self.company.trim().to_owned();
        if company.is_empty() || company.chars().count() > 200 {
            errors.add("company", "company must be 1 to 200 characters");
        }
        let email = crate::user::normalise_email(&self.email, "email", &mut errors);
        errors.into_result()?;
        Ok(Tenant {
            id,
            company,
            email,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_admits_up_to_its_limit_and_no_further() {
        let plan = Plan {
            orders_per_day: Some(3),
            max_skus: None,
        };
        assert!(plan.admit_order(2).is_ok());
        assert_eq!(plan.admit_order(3), Err(QuotaExceeded { limit: 3 }));
        assert!(plan.admit_sku(1_000_000).is_ok());
    }

    #[test]
    fn email_is_normalised_and_company_trimmed() {
        let t = NewTenant {
            company: " Acme Socks ".into(),
            email: "Owner@Acme.Example".into(),
        }
        .validate(TenantId::new(), Utc::now())
        .unwrap();
        assert_eq!(t.company, "Acme Socks");
        assert_eq!(t.email, "owner@acme.example");
    }

    #[test]
    fn a_blank_company_and_a_bad_email_are_both_reported() {
        let err = NewTenant {
            company: "".into(),
            email: "nope".into(),
        }
        .validate(TenantId::new(), Utc::now())
        .unwrap_err();
        assert_eq!(err.0.len(), 2);
    }
}
