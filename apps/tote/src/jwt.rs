//! Access tokens: EdDSA (Ed25519) JWTs signed with our own key set. The `kid` in a token only
//! ever selects one of *our* configured keys; nothing is fetched from a URL, `alg` must be
//! `EdDSA` (so `none` and HS256-with-our-public-key fail), and `iss`, `aud`, `exp`, `nbf` and
//! `typ` are all checked.

use chrono::{TimeZone, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use identity::Role;
use identity::token::{AccessClaims, AccessTokenSigner};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kernel::TenantId;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

pub const ISSUER: &str = "tote";
pub const AUDIENCE: &str = "tote-api";
/// The header `typ` of our access tokens (RFC 9068).
pub const TYP: &str = "at+jwt";
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: Uuid,
    tid: Uuid,
    role: String,
    sid: Uuid,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: Uuid,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_pem: String,
}

/// Our signing keys: the first signs, all verify (rotation: add the new key first, keep the
/// old one until its tokens expired, 15 minutes).
#[derive(Clone)]
pub struct KeySet {
    keys: std::sync::Arc<Vec<Key>>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        write!(f, "KeySet({kids:?})")
    }
}

/// Why a token was refused (logged at debug, never told to the caller).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token or header: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("wrong or missing typ")]
    Typ,
    #[error("unknown or missing kid")]
    UnknownKid,
    #[error("invalid token: {0}")]
    Invalid(String),
}

impl KeySet {
    /// A fresh Ed25519 private key as PKCS#8 PEM (`openssl genpkey -algorithm ed25519` gives
    /// the same format).
    pub fn generate_pem() -> String {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        SigningKey::from_bytes(&seed)
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key encodes")
            .to_string()
    }

    /// Keys from `(kid, PKCS#8 PEM)` pairs; the first one signs.
    pub fn from_pems(pems: &[(String, String)]) -> Result<KeySet, String> {
        if pems.is_empty() {
            return Err("no keys".into());
        }
        let mut keys = Vec::new();
        for (kid, pem) in pems {
            let signing = SigningKey::from_pkcs8_pem(pem)
                .map_err(|e| format!("key {kid:?} is not an Ed25519 PKCS#8 PEM: {e}"))?;
            let public_pem = signing
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| e.to_string())?;
            keys.push(Key {
                kid: kid.clone(),
                encoding: EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| e.to_string())?,
                decoding: DecodingKey::from_ed_pem(public_pem.as_bytes())
                    .map_err(|e| e.to_string())?,
                public_pem,
            });
        }
        Ok(KeySet {
            keys: std::sync::Arc::new(keys),
        })
    }

    /// `TOTE_JWT_KEYS`: `kid=/path/key.pem[,kid2=/path/old.pem…]`.
    pub fn from_spec(spec: &str) -> Result<KeySet, String> {
        let mut pems = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, path) = entry
                .split_once('=')
                .ok_or_else(|| format!("{entry:?} is not kid=/path/to/key.pem"))?;
            let pem = std::fs::read_to_string(path.trim())
                .map_err(|e| format!("cannot read {path:?}: {e}"))?;
            pems.push((kid.trim().to_owned(), pem));
        }
        Self::from_pems(&pems)
    }

    /// A key made at start-up: tokens die with the process. For `make run` only.
    pub fn ephemeral() -> KeySet {
        Self::from_pems(&[("ephemeral".into(), Self::generate_pem())]).expect("a fresh key loads")
    }

    pub fn public_pem(&self, kid: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .map(|k| k.public_pem.as_str())
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        if header.typ.as_deref() != Some(TYP) {
            return Err(TokenError::Typ);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(TokenError::UnknownKid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let c = data.claims;
        let role = Role::parse(&c.role).ok_or(TokenError::Invalid("unknown role".into()))?;
        let at = |s: i64| Utc.timestamp_opt(s, 0).single().unwrap_or_default();
        Ok(AccessClaims {
            user_id: c.sub,
            tenant_id: TenantId::from_uuid(c.tid),
            role,
            session_id: c.sid,
            issued_at: at(c.iat),
            expires_at: at(c.exp),
        })
    }
}

impl AccessTokenSigner for KeySet {
    fn sign(&self, c: &AccessClaims) -> Result<String, String> {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        header.typ = Some(TYP.into());
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: c.user_id,
            tid: c.tenant_id.into_uuid(),
            role: c.role.as_str().into(),
            sid: c.session_id,
            iat: c.issued_at.timestamp(),
            nbf: c.issued_at.timestamp(),
            exp: c.expires_at.timestamp(),
            jti: Uuid::now_v7(),
        };
        jsonwebtoken::encode(&header, &claims, &key.encoding).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    fn claims() -> AccessClaims {
        let now = Utc::now();
        AccessClaims {
            user_id: Uuid::now_v7(),
            tenant_id: TenantId::new(),
            role: Role::Manager,
            session_id: Uuid::now_v7(),
            issued_at: now,
            expires_at: now + chrono::Duration::minutes(15),
        }
    }

    #[test]
    fn a_signed_token_verifies_with_its_claims() {
        let keys = KeySet::ephemeral();
        let c = claims();
        let got = keys.verify(&keys.sign(&c).unwrap()).unwrap();
        assert_eq!(
            (got.user_id, got.role, got.session_id),
            (c.user_id, c.role, c.session_id)
        );
    }

    #[test]
    fn a_rotated_out_signer_still_verifies_and_a_foreign_key_does_not() {
        let old = KeySet::generate_pem();
        let new = KeySet::generate_pem();
        let before = KeySet::from_pems(&[("old".into(), old.clone())]).unwrap();
        let token = before.sign(&claims()).unwrap();
        let after = KeySet::from_pems(&[("new".into(), new), ("old".into(), old)]).unwrap();
        assert!(after.verify(&token).is_ok());
        let stranger = KeySet::from_pems(&[("old".into(), KeySet::generate_pem())]).unwrap();
        assert!(matches!(
            stranger.verify(&token),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn alg_none_in_any_casing_is_refused() {
        let keys = KeySet::ephemeral();
        let token = keys.sign(&claims()).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = B64.encode(format!(
                r#"{{"alg":"{alg}","typ":"at+jwt","kid":"ephemeral"}}"#
            ));
            for forged in [
                format!("{header}.{payload}."),
                format!("{header}.{payload}"),
            ] {
                assert!(keys.verify(&forged).is_err(), "{alg}");
            }
        }
    }
}
