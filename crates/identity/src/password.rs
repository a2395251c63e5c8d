//! Passwords: a policy on what we accept, and Argon2id hashes (PHC strings) for what we keep.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

/// A password as typed: never printed.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Accepts a new password if it is long enough (NIST 800-63B: length, not composition rules).
    pub fn new(raw: &str) -> Result<Password, &'static str> {
        let n = raw.chars().count();
        if n < MIN_LEN {
            return Err("password must be at least 10 characters");
        }
        if n > MAX_LEN {
            return Err("password must be at most 128 characters");
        }
        Ok(Password(raw.to_owned()))
    }

    /// A password offered at login: no policy, only a length cap so hashing stays bounded.
    pub fn offered(raw: &str) -> Password {
        Password(raw.chars().take(MAX_LEN + 1).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's Argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub fn hash(password: &Password) -> String {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    argon2()
        .hash_password(password.0.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify(password: &Password, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            argon2()
                .verify_password(password.0.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of one verification, so an unknown email takes as long as a wrong password.
pub fn verify_nothing(password: &Password) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash(&Password("not-a-real-password".into())));
    let _ = verify(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let p = Password::new("correct horse battery").unwrap();
        let h = hash(&p);
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&p, &h));
        assert!(!verify(&Password::offered("correct horse battery!"), &h));
        assert!(!verify(&p, "not a hash"));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let p = Password::new("correct horse battery").unwrap();
        assert_ne!(hash(&p), hash(&p));
    }

    #[test]
    fn short_and_huge_passwords_are_refused_and_none_prints() {
        assert!(Password::new("short").is_err());
        assert!(Password::new(&"x".repeat(129)).is_err());
        assert!(Password::new(&"x".repeat(10)).is_ok());
        assert_eq!(
            format!("{:?}", Password::offered("hunter2")),
            "Password(***)"
        );
    }
}
