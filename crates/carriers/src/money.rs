//! Money as carriers write it (decimal strings) and as people read it, without floats.

use kernel::{Currency, Money};

/// How many digits of minor units a currency has (ISO 4217): 0 for JPY, 3 for KWD, else 2.
pub fn minor_unit_digits(currency: Currency) -> u32 {
    match currency.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Parses a decimal amount such as `"7.58"`, `"12"` or `"-0.5"` into integer minor units of
/// `currency`, exactly: by its digits, never through a float. More decimals than the currency
/// has are refused unless they are zeros (`"7.580"` is fine in USD, `"7.585"` is not).
pub fn parse_decimal(raw: &str, currency: Currency) -> Result<Money, String> {
    let digits = minor_unit_digits(currency) as usize;
    let text = raw.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(format!("{raw:?} is not a decimal amount"));
    }
    let (kept, dropped) = fraction.split_at(fraction.len().min(digits));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(format!(
            "{raw:?} has more decimals than {currency} has minor units ({digits})"
        ));
    }
    let mut minor: i64 = 0;
    let padded = format!("{kept:0<digits$}");
    for b in whole.bytes().chain(padded.bytes()) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| format!("{raw:?} is too large"))?;
    }
    Ok(Money::new(if negative { -minor } else { minor }, currency))
}

/// The amount as a plain decimal string (`"7.58"`), as APIs want it.
pub fn to_decimal(money: Money) -> String {
    let digits = minor_unit_digits(money.currency);
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let abs = money.amount_minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(digits);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = digits as usize
    )
}

/// For people: `USD 1,234.56`.
pub fn format_money(money: Money) -> String {
    let plain = to_decimal(money);
    let (sign, plain) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (whole, fraction) = match plain.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (plain, None),
    };
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{} {sign}{grouped}.{f}", money.currency),
        None => format!("{} {sign}{grouped}", money.currency),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn decimal_strings_become_exact_minor_units() {
        let cases = [
            ("7.58", "USD", Ok(758)),
            ("7.5", "USD", Ok(750)),
            ("7", "USD", Ok(700)),
            ("0.07", "USD", Ok(7)),
            (".5", "USD", Ok(50)),
            ("7.580", "USD", Ok(758)),
            ("-1.25", "USD", Ok(-125)),
            ("1234", "JPY", Ok(1234)),
            ("1.234", "KWD", Ok(1234)),
            // 0.1 + 0.2 style float errors cannot happen: 19.99 is 1999, not 1998.
            ("19.99", "USD", Ok(1999)),
        ];
        for (raw, code, want) in cases {
            let got = parse_decimal(raw, cur(code)).map(|m| m.amount_minor);
            assert_eq!(got, want, "{raw} {code}");
        }
        for bad in [
            "",
            ".",
            "7.585",
            "abc",
            "1e3",
            "7,58",
            "--1",
            "99999999999999999999",
        ] {
            assert!(parse_decimal(bad, cur("USD")).is_err(), "{bad:?}");
        }
        assert!(parse_decimal("1.5", cur("JPY")).is_err());
    }

    #[test]
    fn amounts_print_with_their_currency_and_digits() {
        assert_eq!(
            format_money(Money::new(123_456, cur("USD"))),
            "USD 1,234.56"
        );
        assert_eq!(format_money(Money::new(5, cur("EUR"))), "EUR 0.05");
        assert_eq!(format_money(Money::new(-100, cur("EUR"))), "EUR -1.00");
        assert_eq!(
            format_money(Money::new(1_000_000, cur("JPY"))),
            "JPY 1,000,000"
        );
        assert_eq!(to_decimal(Money::new(758, cur("USD"))), "7.58");
        assert_eq!(to_decimal(Money::new(1234, cur("KWD"))), "1.234");
    }
}
