use crate::Role;
use chrono::{DateTime, Utc};
use kernel::{TenantId, ValidationErrors};
use uuid::Uuid;

/// A person who logs in to one tenant with a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub active: bool,
    /// Base32 TOTP secret, set at enrolment; the factor counts once `totp_enabled`.
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    /// SHA-256 hashes of the unused recovery codes.
    pub recovery_codes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    pub fn new(
        tenant_id: TenantId,
        email: String,
        role: Role,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> User {
        User {
            id: Uuid::now_v7(),
            tenant_id,
            email,
            role,
            password_hash,
            active: true,
            totp_secret: None,
            totp_enabled: false,
            recovery_codes: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Trims and lower-cases an email and checks its shape; reports under `field`.
pub fn normalise_email(raw: &str, field: &str, errors: &mut ValidationErrors) -> String {
    let email = raw.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
    if !valid {
        errors.add(field, "email must look like name@example.com");
    }
    email
}
