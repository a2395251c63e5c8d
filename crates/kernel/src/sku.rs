use serde::{Deserialize, Serialize};
use std::fmt;

/// A seller's stock-keeping unit code, unique within a tenant.
///
/// Kept as the seller wrote it (case matters to some channels), trimmed, 1–64 characters of
/// letters, digits and `-_./`; no spaces, so it is safe in a URL path segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("SKU must not be empty")]
    Empty,
    #[error("SKU must be at most {max} characters", max = Sku::MAX_LEN)]
    TooLong,
    #[error("SKU may contain only letters, digits and - _ . / (found {0:?})")]
    InvalidCharacter(char),
}

impl Sku {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, SkuError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(SkuError::Empty);
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(SkuError::TooLong);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
        {
            return Err(SkuError::InvalidCharacter(c));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = SkuError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> Self {
        sku.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sku_is_trimmed_and_kept_as_written() {
        assert_eq!(Sku::parse("  Tee-Blue/M ").unwrap().as_str(), "Tee-Blue/M");
    }

    #[test]
    fn an_empty_or_blank_sku_is_refused() {
        assert_eq!(Sku::parse("   "), Err(SkuError::Empty));
    }

    #[test]
    fn a_sku_with_spaces_or_symbols_is_refused() {
        assert_eq!(Sku::parse("TEE BLUE"), Err(SkuError::InvalidCharacter(' ')));
        assert_eq!(Sku::parse("TEE?"), Err(SkuError::InvalidCharacter('?')));
    }

    #[test]
    fn a_sku_longer_than_64_characters_is_refused() {
        assert_eq!(Sku::parse(&"A".repeat(65)), Err(SkuError::TooLong));
        assert!(Sku::parse(&"A".repeat(64)).is_ok());
    }
}
