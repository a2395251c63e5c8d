use crate::Scope;
use chrono::{DateTime, Utc};
use kernel::{ApiKeyId, TenantId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

const PREFIX: &str = "tote_sk_";
const SECRET_BYTES: usize = 24;

/// The plaintext key: shown to the seller once, never stored, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Parses what a caller sent. Only the shape is checked here; the hash lookup decides.
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix(PREFIX)?;
        (rest.len() == SECRET_BYTES * 2 && rest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| Self(raw.to_owned()))
    }

    /// SHA-256 of the key. A fast hash is right here: the key carries 192 random bits, so
    /// there is nothing to brute-force, unlike a password.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}…)", &self.0[..PREFIX.len() + 4])
    }
}

/// A stored API key: its hash, and a short prefix so a seller can tell keys apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    pub prefix: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `None`: full access (every key made before scopes existed, and the sign-up key).
    pub scopes: Option<Vec<Scope>>,
}

impl ApiKey {
    /// A fresh random key for the tenant: the record to store and the secret to show once.
    pub fn generate(tenant_id: TenantId, name: &str, now: DateTime<Utc>) -> (ApiKey, ApiKeySecret) {
        Self::generate_scoped(tenant_id, name, None, now)
    }

    /// Like [`ApiKey::generate`], limited to `scopes` (`None`: full access).
    pub fn generate_scoped(
        tenant_id: TenantId,
        name: &str,
        scopes: Option<Vec<Scope>>,
        now: DateTime<Utc>,
    ) -> (ApiKey, ApiKeySecret) {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let secret = ApiKeySecret(format!("{PREFIX}{}", hex::encode(bytes)));
        let key = ApiKey {
            id: ApiKeyId::new(),
            tenant_id,
            name: name.to_owned(),
            prefix: secret.0[..PREFIX.len() + 6].to_owned(),
            hash: secret.hash(),
            created_at: now,
            revoked_at: None,
            scopes,
        };
        (key, secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_and_hashes_to_its_stored_hash() {
        let (key, secret) = ApiKey::generate(TenantId::new(), "default", Utc::now());
        let parsed = ApiKeySecret::parse(secret.expose()).unwrap();
        assert_eq!(parsed.hash(), key.hash);
        assert!(secret.expose().starts_with(&key.prefix));
        assert_ne!(key.hash, secret.expose());
    }

    #[test]
    fn two_keys_are_never_the_same() {
        let (_, a) = ApiKey::generate(TenantId::new(), "a", Utc::now());
        let (_, b) = ApiKey::generate(TenantId::new(), "b", Utc::now());
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        assert!(ApiKeySecret::parse("").is_none());
        assert!(ApiKeySecret::parse("tote_sk_abc").is_none());
        assert!(ApiKeySecret::parse(&format!("sk_{}", "a".repeat(48))).is_none());
        assert!(ApiKeySecret::parse(&format!("tote_sk_{}", "z".repeat(48))).is_none());
    }

    #[test]
    fn the_secret_never_prints_in_full() {
        let (_, secret) = ApiKey::generate(TenantId::new(), "a", Utc::now());
        assert!(!format!("{secret:?}").contains(&secret.expose()[12..]));
    }
}
