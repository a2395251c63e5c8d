//! How fast an order must leave, and the ship-by time that puts it in the warehouse queue.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The speed the customer paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevel {
    #[default]
    Standard,
    Expedited,
    Overnight,
}

/// A warehouse's daily cut-off, in minutes after midnight UTC: orders placed later leave the
/// next working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cutoff(u16);

impl Cutoff {
    pub const DEFAULT: Cutoff = Cutoff(15 * 60);

    /// `None` unless `minute` is within a day.
    pub fn from_minute(minute: i64) -> Option<Cutoff> {
        u16::try_from(minute)
            .ok()
            .filter(|m| *m < 24 * 60)
            .map(Cutoff)
    }

    /// Parses `HH:MM` (24-hour, UTC).
    pub fn parse(s: &str) -> Option<Cutoff> {
        let time = NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()?;
        Cutoff::from_minute(i64::from(time.num_seconds_from_midnight() / 60))
    }

    pub fn minute(self) -> u16 {
        self.0
    }

    pub fn time(self) -> NaiveTime {
        NaiveTime::from_hms_opt(u32::from(self.0 / 60), u32::from(self.0 % 60), 0)
            .unwrap_or(NaiveTime::MIN)
    }
}

impl std::fmt::Display for Cutoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl ServiceLevel {
    pub const ALL: [ServiceLevel; 3] = [Self::Standard, Self::Expedited, Self::Overnight];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Expedited => "expedited",
            Self::Overnight => "overnight",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Lower goes first when two orders share a ship-by time.
    pub const fn rank(self) -> i32 {
        match self {
            Self::Overnight => 0,
            Self::Expedited => 1,
            Self::Standard => 2,
        }
    }

    /// Working days the warehouse has after the day the order counts as received.
    const fn handling_days(self) -> u32 {
        match self {
            Self::Overnight | Self::Expedited => 0,
            Self::Standard => 1,
        }
    }

    /// When the order must leave: the cut-off of the day it counts as received (the placement
    /// day if it is a working day before cut-off, else the next working day), plus the service
    /// level's handling days. Weekends are not working days.
    pub fn ship_by(self, placed_at: DateTime<Utc>, cutoff: Cutoff) -> DateTime<Utc> {
        let mut day = placed_at.date_naive();
        if !is_working_day(day) || placed_at.time() >= cutoff.time() {
            day = next_working_day(day);
        }
        for _ in 0..self.handling_days() {
            day = next_working_day(day);
        }
        day.and_time(cutoff.time()).and_utc()
    }
}

fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_working_day(day: NaiveDate) -> NaiveDate {
    let mut next = day + Duration::days(1);
    while !is_working_day(next) {
        next += Duration::days(1);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        // November 2026: the 23rd is a Monday, the 27th a Friday.
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    #[test]
    fn before_cut_off_express_orders_leave_today_and_standard_tomorrow() {
        let c = Cutoff::parse("15:00").unwrap();
        assert_eq!(
            ServiceLevel::Overnight.ship_by(at(23, 9, 0), c),
            at(23, 15, 0)
        );
        assert_eq!(
            ServiceLevel::Expedited.ship_by(at(23, 9, 0), c),
            at(23, 15, 0)
        );
        assert_eq!(
            ServiceLevel::Standard.ship_by(at(23, 9, 0), c),
            at(24, 15, 0)
        );
    }

    #[test]
    fn after_cut_off_the_order_counts_from_the_next_working_day() {
        let c = Cutoff::parse("15:00").unwrap();
        assert_eq!(
            ServiceLevel::Overnight.ship_by(at(23, 15, 0), c),
            at(24, 15, 0)
        );
        // Friday after cut-off: Monday for overnight, Tuesday for standard.
        assert_eq!(
            ServiceLevel::Overnight.ship_by(at(27, 16, 0), c),
            at(30, 15, 0)
        );
        assert_eq!(
            ServiceLevel::Standard.ship_by(at(27, 16, 0), c),
            Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap()
        );
    }

    #[test]
    fn weekend_orders_count_from_monday() {
        let c = Cutoff::parse("12:30").unwrap();
        assert_eq!(
            ServiceLevel::Expedited.ship_by(at(28, 8, 0), c),
            at(30, 12, 30)
        );
    }

    #[test]
    fn cut_offs_parse_only_real_times_of_day() {
        assert_eq!(Cutoff::parse("09:05").unwrap().minute(), 545);
        assert_eq!(Cutoff::parse("09:05").unwrap().to_string(), "09:05");
        assert!(Cutoff::parse("24:00").is_none());
        assert!(Cutoff::parse("noon").is_none());
        assert!(Cutoff::from_minute(1440).is_none());
        assert!(Cutoff::from_minute(-1).is_none());
    }

    #[test]
    fn faster_service_levels_rank_first() {
        assert!(ServiceLevel::Overnight.rank() < ServiceLevel::Expedited.rank());
        assert!(ServiceLevel::Expedited.rank() < ServiceLevel::Standard.rank());
        for level in ServiceLevel::ALL {
            assert_eq!(ServiceLevel::parse(level.as_str()), Some(level));
        }
    }
}
