use serde::{Deserialize, Serialize};
use std::fmt;

/// A count of units: never negative, with a sane upper bound so sums cannot overflow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantity must not be negative (got {0})")]
    Negative(i64),
    #[error("quantity {0} is larger than the maximum of {max}", max = Quantity::MAX)]
    TooLarge(i64),
}

impl Quantity {
    /// One billion units: far above any real stock figure, far below overflow of an i64 sum.
    pub const MAX: u32 = 1_000_000_000;
    pub const ZERO: Quantity = Quantity(0);

    pub fn new(value: i64) -> Result<Self, QuantityError> {
        if value < 0 {
            Err(QuantityError::Negative(value))
        } else if value > i64::from(Self::MAX) {
            Err(QuantityError::TooLarge(value))
        } else {
            Ok(Self(value as u32))
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    pub const fn as_i64(self) -> i64 {
        self.0 as i64
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn min(self, other: Self) -> Self {
        Self(self.0.min(other.0))
    }

    pub fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }

    /// Sum, capped at [`Quantity::MAX`].
    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0).min(Self::MAX))
    }
}

impl TryFrom<i64> for Quantity {
    type Error = QuantityError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Quantity> for i64 {
    fn from(q: Quantity) -> Self {
        q.as_i64()
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_quantity_is_refused() {
        assert_eq!(Quantity::new(-1), Err(QuantityError::Negative(-1)));
    }

    #[test]
    fn a_quantity_above_the_maximum_is_refused() {
        assert!(matches!(
            Quantity::new(i64::from(Quantity::MAX) + 1),
            Err(QuantityError::TooLarge(_))
        ));
        assert!(Quantity::new(i64::from(Quantity::MAX)).is_ok());
    }

    #[test]
    fn a_quantity_deserialises_only_from_a_valid_number() {
        assert_eq!(serde_json::from_str::<Quantity>("7").unwrap().get(), 7);
        assert!(serde_json::from_str::<Quantity>("-3").is_err());
    }
}
