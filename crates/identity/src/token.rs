//! Access tokens (short-lived, signed by the app's key set) and refresh tokens (opaque, random,
//! stored as a hash, rotated at every use; a family is all the tokens one login rotated into).

use crate::Role;
use chrono::{DateTime, Duration, Utc};
use kernel::TenantId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

pub const ACCESS_TTL: Duration = Duration::minutes(15);
pub const REFRESH_TTL: Duration = Duration::days(30);
const REFRESH_PREFIX: &str = "tote_rt_";

/// What an access token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: Uuid,
    pub tenant_id: TenantId,
    pub role: Role,
    /// The refresh-token family (login session) the token belongs to; logout ends it.
    pub session_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Signs and checks access tokens. The app implements it (JWT, asymmetric keys).
#[cfg_attr(test, mockall::automock)]
pub trait AccessTokenSigner: Send + Sync {
    fn sign(&self, claims: &AccessClaims) -> Result<String, String>;
}

/// The plaintext refresh token: given to the client once, stored only as its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshSecret(String);

impl RefreshSecret {
    pub fn generate() -> RefreshSecret {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        RefreshSecret(format!("{REFRESH_PREFIX}{}", hex::encode(bytes)))
    }

    pub fn parse(raw: &str) -> Option<RefreshSecret> {
        let rest = raw.strip_prefix(REFRESH_PREFIX)?;
        (rest.len() == 64 && rest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| RefreshSecret(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for RefreshSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshSecret(***)")
    }
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl RefreshToken {
    /// A new token in `family` (a new family at login, the same one at rotation).
    pub fn issue(
        tenant_id: TenantId,
        user_id: Uuid,
        family_id: Uuid,
        now: DateTime<Utc>,
    ) -> (RefreshToken, RefreshSecret) {
        let secret = RefreshSecret::generate();
        let token = RefreshToken {
            id: Uuid::now_v7(),
            tenant_id,
            user_id,
            family_id,
            hash: secret.hash(),
            created_at: now,
            expires_at: now + REFRESH_TTL,
            used_at: None,
            revoked_at: None,
        };
        (token, secret)
    }

    /// What presenting this token means now.
    pub fn state(&self, now: DateTime<Utc>) -> RefreshState {
        if self.revoked_at.is_some() || now >= self.expires_at {
            RefreshState::Dead
        } else if self.used_at.is_some() {
            RefreshState::Reused
        } else {
            RefreshState::Fresh
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    /// Unused and valid: rotate it.
    Fresh,
    /// Already rotated: someone replays a stolen token. Revoke the whole family.
    Reused,
    /// Revoked or expired.
    Dead,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_secret_parses_and_never_prints() {
        let s = RefreshSecret::generate();
        assert_eq!(RefreshSecret::parse(s.expose()), Some(s.clone()));
        assert!(RefreshSecret::parse("tote_rt_abc").is_none());
        assert!(!format!("{s:?}").contains(&s.expose()[10..]));
    }

    #[test]
    fn a_token_is_fresh_then_reused_after_use_and_dead_when_revoked_or_expired() {
        let now = Utc::now();
        let (mut t, _) = RefreshToken::issue(TenantId::new(), Uuid::now_v7(), Uuid::now_v7(), now);
        assert_eq!(t.state(now), RefreshState::Fresh);
        assert_eq!(t.state(now + REFRESH_TTL), RefreshState::Dead);
        t.used_at = Some(now);
        assert_eq!(t.state(now), RefreshState::Reused);
        t.revoked_at = Some(now);
        assert_eq!(t.state(now), RefreshState::Dead);
    }
}
