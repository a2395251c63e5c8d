use crate::ValidationErrors;
use serde::{Deserialize, Serialize};

/// Where an order ships to. Country is ISO 3166-1 alpha-2, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

const MAX_FIELD: usize = 200;

impl Address {
    /// Trims every field, drops blank optional ones, and reports each problem under `prefix`.
    pub fn normalise(self, prefix: &str, errors: &mut ValidationErrors) -> Address {
        let name = required(prefix, "name", self.name, errors);
        let line1 = required(prefix, "line1", self.line1, errors);
        let city = required(prefix, "city", self.city, errors);
        let country = self.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            errors.add(
                format!("{prefix}.country"),
                "country must be a two-letter ISO 3166-1 code such as US",
            );
        }
        let email = optional(prefix, "email", self.email, errors);
        if let Some(email) = &email
            && !looks_like_email(email)
        {
            errors.add(
                format!("{prefix}.email"),
                "email must look like name@example.com",
            );
        }
        Address {
            name,
            company: optional(prefix, "company", self.company, errors),
            line1,
            line2: optional(prefix, "line2", self.line2, errors),
            city,
            region: optional(prefix, "region", self.region, errors),
            postal_code: optional(prefix, "postal_code", self.postal_code, errors),
            country,
            phone: optional(prefix, "phone", self.phone, errors),
            email,
        }
    }
}

fn required(prefix: &str, field: &str, value: String, errors: &mut ValidationErrors) -> String {
    let value = value.trim().to_owned();
    if value.is_empty() {
        errors.add(format!("{prefix}.{field}"), format!("{field} is required"));
    } else if value.chars().count() > MAX_FIELD {
        errors.add(
            format!("{prefix}.{field}"),
            format!("{field} must be at most {MAX_FIELD} characters"),
        );
    }
    value
}

fn optional(
    prefix: &str,
    field: &str,
    value: Option<String>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())?;
    if value.chars().count() > MAX_FIELD {
        errors.add(
            format!("{prefix}.{field}"),
            format!("{field} must be at most {MAX_FIELD} characters"),
        );
    }
    Some(value)
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !s.contains(' ')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_required_fields_and_a_bad_country_are_all_reported() {
        let mut errors = ValidationErrors::new();
        Address {
            country: "USA".into(),
            ..Default::default()
        }
        .normalise("ship_to", &mut errors);
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "ship_to.name",
                "ship_to.line1",
                "ship_to.city",
                "ship_to.country"
            ]
        );
    }

    #[test]
    fn fields_are_trimmed_and_blank_optionals_dropped() {
        let mut errors = ValidationErrors::new();
        let a = Address {
            name: " Ada ".into(),
            line1: "1 Main St".into(),
            city: "Springfield".into(),
            country: "us".into(),
            line2: Some("  ".into()),
            ..Default::default()
        }
        .normalise("ship_to", &mut errors);
        assert!(errors.is_empty());
        assert_eq!(a.name, "Ada");
        assert_eq!(a.country, "US");
        assert_eq!(a.line2, None);
    }
}
