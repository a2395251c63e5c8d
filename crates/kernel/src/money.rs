use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// An amount in integer minor units (cents) of one currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code such as USD (got {0:?})")]
    InvalidCurrency(String),
    #[error("cannot combine amounts in {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount is too large")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
}

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let bytes = raw.as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Self([*a, *b, *c])),
            _ => Err(MoneyError::InvalidCurrency(raw.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from three ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Money {
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        self.amount_minor
            .checked_add(other.amount_minor)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        self.amount_minor
            .checked_mul(factor)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::parse("USD").unwrap())
    }

    #[test]
    fn a_currency_must_be_three_upper_case_letters() {
        assert!(Currency::parse("USD").is_ok());
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("USDT").is_err());
    }

    #[test]
    fn amounts_in_one_currency_add_up() {
        assert_eq!(usd(250).checked_add(usd(1_000)).unwrap(), usd(1_250));
    }

    #[test]
    fn amounts_in_different_currencies_do_not_add_up() {
        let eur = Money::new(1, Currency::parse("EUR").unwrap());
        assert!(matches!(
            usd(1).checked_add(eur),
            Err(MoneyError::CurrencyMismatch(_, _))
        ));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(usd(i64::MAX).checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(usd(i64::MAX).checked_add(usd(1)), Err(MoneyError::Overflow));
    }
}
