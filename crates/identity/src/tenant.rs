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
        let email = self.email.trim().to_ascii_lowercase();
        let valid_email = email.len() <= 254
            && !email.contains(char::is_whitespace)
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
        if !valid_email {
            errors.add("email", "email must look like name@example.com");
        }
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
