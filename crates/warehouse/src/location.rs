//! Bin locations: where stock sits on the floor, and the order a picker walks past them.

use kernel::WarehouseId;
use std::cmp::Ordering;
use std::fmt;

/// A bin location code such as `A-01-03-B` (zone-aisle-rack-level).
///
/// One to four dash-separated segments of letters and digits, stored upper-cased, at most
/// 32 characters in all. Parsed once, so a `BinCode` is always well-formed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BinCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinCodeError {
    #[error("bin code must not be empty")]
    Empty,
    #[error("bin code must be at most {max} characters", max = BinCode::MAX_LEN)]
    TooLong,
    #[error("bin code has at most 4 parts, like A-01-03-B (found {0})")]
    TooManySegments(usize),
    #[error("bin code has an empty part; write it like A-01-03-B")]
    EmptySegment,
    #[error("bin code may contain only letters, digits and dashes (found {0:?})")]
    InvalidCharacter(char),
}

impl BinCode {
    pub const MAX_LEN: usize = 32;
    pub const MAX_SEGMENTS: usize = 4;

    pub fn parse(raw: &str) -> Result<Self, BinCodeError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(BinCodeError::Empty);
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(BinCodeError::TooLong);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(BinCodeError::InvalidCharacter(c));
        }
        let segments = s.split('-').count();
        if segments > Self::MAX_SEGMENTS {
            return Err(BinCodeError::TooManySegments(segments));
        }
        if s.split('-').any(str::is_empty) {
            return Err(BinCodeError::EmptySegment);
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parts between the dashes: zone, aisle, rack, level (as many as were given).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('-')
    }

    /// The first segment, which names the zone unless a bin says otherwise.
    pub fn zone(&self) -> &str {
        self.segments().next().unwrap_or(&self.0)
    }

    /// Whether a scanned bin label names this bin (trimmed, any case).
    pub fn matches(&self, scanned: &str) -> bool {
        self.0.eq_ignore_ascii_case(scanned.trim())
    }
}

impl fmt::Display for BinCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for BinCode {
    type Err = BinCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// One storage location in one warehouse, with its place on the pick path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bin {
    pub code: BinCode,
    pub warehouse: WarehouseId,
    pub zone: String,
    /// Position on the pick path: lower numbers are walked past first.
    pub walk_order: u32,
}

impl Bin {
    /// A bin whose zone is its code's first segment.
    pub fn new(code: BinCode, warehouse: WarehouseId, walk_order: u32) -> Self {
        let zone = code.zone().to_owned();
        Self {
            code,
            warehouse,
            zone,
            walk_order,
        }
    }

    /// A bin in a zone named apart from its code (say `COLD` for `A-01-03-B`).
    pub fn in_zone(code: BinCode, warehouse: WarehouseId, zone: &str, walk_order: u32) -> Self {
        Self {
            zone: zone.trim().to_ascii_uppercase(),
            ..Self::new(code, warehouse, walk_order)
        }
    }

    /// Pick-path order: walk order, then code.
    pub fn walk_cmp(&self, other: &Self) -> Ordering {
        self.walk_order
            .cmp(&other.walk_order)
            .then_with(|| self.code.cmp(&other.code))
    }
}

/// Sorts bins into the order a picker walks past them (walk order, then code).
pub fn sort_by_walk(bins: &mut [Bin]) {
    bins.sort_by(Bin::walk_cmp);
}

/// Why units cannot be put away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutAwayError {
    #[error(
        "only {on_hand} units are on hand in this warehouse and {in_bins} are already in bins: \
         at most {} more can be put away", .on_hand.saturating_sub(*.in_bins).max(0)
    )]
    ExceedsOnHand { on_hand: i64, in_bins: i64 },
}

/// Put-away only places units that are on hand: a SKU's units across a warehouse's bins may
/// never exceed its stock level there (the count of record).
pub fn check_put_away(
    on_hand: i64,
    in_bins: i64,
    adding: kernel::Quantity,
) -> Result<(), PutAwayError> {
    if in_bins.saturating_add(adding.as_i64()) > on_hand {
        return Err(PutAwayError::ExceedsOnHand { on_hand, in_bins });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn bin(code: &str, walk_order: u32) -> Bin {
        Bin::new(BinCode::parse(code).unwrap(), warehouse(), walk_order)
    }

    pub(crate) fn warehouse() -> WarehouseId {
        WarehouseId::from_uuid(uuid::Uuid::from_u128(7))
    }

    #[test]
    fn a_bin_code_is_trimmed_and_upper_cased() {
        assert_eq!(BinCode::parse(" a-01-03-b ").unwrap().as_str(), "A-01-03-B");
    }

    #[test]
    fn a_bin_code_may_have_one_to_four_parts() {
        assert!(BinCode::parse("DOCK").is_ok());
        assert!(BinCode::parse("A-01").is_ok());
        assert_eq!(
            BinCode::parse("A-01-03-B-2"),
            Err(BinCodeError::TooManySegments(5))
        );
    }

    #[test]
    fn a_bin_code_with_an_empty_part_or_symbols_is_refused_with_a_clear_message() {
        assert_eq!(BinCode::parse("A--03"), Err(BinCodeError::EmptySegment));
        assert_eq!(BinCode::parse("-A"), Err(BinCodeError::EmptySegment));
        assert_eq!(
            BinCode::parse("A/01").unwrap_err().to_string(),
            "bin code may contain only letters, digits and dashes (found '/')"
        );
        assert_eq!(BinCode::parse("  "), Err(BinCodeError::Empty));
    }

    #[test]
    fn a_bin_code_longer_than_32_characters_is_refused() {
        assert_eq!(BinCode::parse(&"A".repeat(33)), Err(BinCodeError::TooLong));
        assert!(BinCode::parse(&"A".repeat(32)).is_ok());
    }

    #[test]
    fn the_zone_is_the_first_segment_unless_given() {
        assert_eq!(bin("b-02-01-a", 1).zone, "B");
        let cold = Bin::in_zone(BinCode::parse("B-02").unwrap(), warehouse(), "cold", 1);
        assert_eq!(cold.zone, "COLD");
    }

    #[test]
    fn a_scanned_label_matches_its_bin_in_any_case() {
        let code = BinCode::parse("A-01-03-B").unwrap();
        assert!(code.matches(" a-01-03-b"));
        assert!(!code.matches("A-01-03-C"));
    }

    #[test]
    fn put_away_never_places_more_than_is_on_hand() {
        let three = kernel::Quantity::new(3).unwrap();
        assert!(check_put_away(10, 7, three).is_ok());
        let err = check_put_away(10, 8, three).unwrap_err();
        assert_eq!(
            err.to_string(),
            "only 10 units are on hand in this warehouse and 8 are already in bins: at most 2 more can be put away"
        );
    }

    #[test]
    fn bins_sort_by_walk_order_then_code() {
        let mut bins = vec![bin("C-01", 2), bin("B-01", 1), bin("A-01", 2)];
        sort_by_walk(&mut bins);
        let codes: Vec<&str> = bins.iter().map(|b| b.code.as_str()).collect();
        assert_eq!(codes, ["B-01", "A-01", "C-01"]);
    }
}
