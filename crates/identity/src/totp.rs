//! Second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s, ±1 step) and one-time recovery codes.

use rand::RngCore;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

pub const RECOVERY_CODES: usize = 10;

/// A fresh 160-bit TOTP secret, base32 (what authenticator apps take).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &bytes)
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret_b32)?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).ok()
}

/// The `otpauth://` URI to show as a QR code.
pub fn provisioning_uri(secret_b32: &str, account: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/Tote:{}?secret={secret_b32}&issuer=Tote&algorithm=SHA1&digits=6&period=30",
        enc(account)
    )
}

/// Whether `code` is right at `unix_time` (one step of clock skew either way).
pub fn check(secret_b32: &str, code: &str, unix_time: u64) -> bool {
    let code = code.trim();
    code.len() == 6
        && code.chars().all(|c| c.is_ascii_digit())
        && totp(secret_b32).is_some_and(|t| t.check(code, unix_time))
}

/// The code an authenticator shows at `unix_time` (tests and tooling).
pub fn code_at(secret_b32: &str, unix_time: u64) -> Option<String> {
    totp(secret_b32).map(|t| t.generate(unix_time))
}

/// Fresh recovery codes (shown once) and their hashes (stored).
pub fn recovery_codes() -> (Vec<String>, Vec<String>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 5];
            rand::rng().fill_bytes(&mut bytes);
            let hex = hex::encode(bytes);
            let code = format!("{}-{}", &hex[..5], &hex[5..]);
            let hash = hash_recovery(&code);
            (code, hash)
        })
        .unzip()
}

pub fn hash_recovery(code: &str) -> String {
    let normalised: String = code
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| *c != '-')
        .collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_code_checks_and_a_stale_or_wrong_one_does_not() {
        let secret = generate_secret();
        let now = 1_700_000_000;
        let code = code_at(&secret, now).unwrap();
        assert!(check(&secret, &code, now));
        assert!(check(&secret, &code, now + 30), "one step of skew");
        assert!(!check(&secret, &code, now + 120));
        assert!(!check(&secret, "12345", now));
        assert!(!check(&secret, "abcdef", now));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_regardless_of_case_and_dash() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(
            hashes[0],
            hash_recovery(&codes[0].to_uppercase().replace('-', ""))
        );
        let unique: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
    }

    #[test]
    fn the_provisioning_uri_names_the_account() {
        let uri = provisioning_uri("ABC", "a+b@x.io");
        assert!(uri.starts_with("otpauth://totp/Tote:a%2Bb%40x.io?secret=ABC"));
    }
}
