//! Waves: allocated orders grouped so one walk serves orders leaving together.

use crate::pick_plan::PickableOrder;
use chrono::{DateTime, Duration, Utc};
use kernel::OrderId;
use std::collections::HashMap;

/// Orders that ship in the same window with the same carrier, earliest ship-by first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    /// Start of the ship-by window (midnight UTC for day windows).
    pub window_start: DateTime<Utc>,
    pub carrier: Option<String>,
    pub orders: Vec<OrderId>,
}

/// Groups orders by (ship-by day in UTC, carrier); see [`group_waves_in`].
pub fn group_waves(orders: &[PickableOrder], max_per_wave: usize) -> Vec<Wave> {
    group_waves_in(orders, Duration::days(1), max_per_wave)
}

/// Groups orders by (ship-by window, carrier), windows counted from the Unix epoch in UTC
/// (a window under one minute counts as one minute). Each wave holds at most `max_per_wave`
/// orders (at least one), earliest ship-by first (then by id); waves come earliest ship-by
/// first, then by carrier (no carrier last).
pub fn group_waves_in(
    orders: &[PickableOrder],
    window: Duration,
    max_per_wave: usize,
) -> Vec<Wave> {
    let window_secs = window.num_seconds().max(60);
    let mut groups: HashMap<(i64, Option<&str>), Vec<&PickableOrder>> = HashMap::new();
    for order in orders {
        let slot = order.ship_by.timestamp().div_euclid(window_secs);
        groups
            .entry((slot, order.carrier.as_deref()))
            .or_default()
            .push(order);
    }
    let mut waves: Vec<(DateTime<Utc>, Wave)> = Vec::new();
    for ((slot, carrier), mut members) in groups {
        members.sort_by_key(|o| (o.ship_by, o.order_id));
        let window_start =
            DateTime::from_timestamp(slot * window_secs, 0).unwrap_or(DateTime::UNIX_EPOCH);
        for chunk in members.chunks(max_per_wave.max(1)) {
            waves.push((
                chunk[0].ship_by,
                Wave {
                    window_start,
                    carrier: carrier.map(str::to_owned),
                    orders: chunk.iter().map(|o| o.order_id).collect(),
                },
            ));
        }
    }
    waves.sort_by(|(a_first, a), (b_first, b)| {
        a_first
            .cmp(b_first)
            .then_with(|| a.carrier.is_none().cmp(&b.carrier.is_none()))
            .then_with(|| a.carrier.cmp(&b.carrier))
            .then_with(|| a.orders.cmp(&b.orders))
    });
    waves.into_iter().map(|(_, wave)| wave).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn id(n: u128) -> OrderId {
        OrderId::from_uuid(Uuid::from_u128(n))
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn order(n: u128, ship_by: &str, carrier: Option<&str>) -> PickableOrder {
        PickableOrder {
            order_id: id(n),
            ship_by: at(ship_by),
            carrier: carrier.map(str::to_owned),
            lines: vec![],
        }
    }

    #[test]
    fn orders_are_grouped_by_ship_by_day_and_carrier_earliest_first_at_most_n_per_wave() {
        let orders = [
            order(1, "2025-03-02T10:00:00Z", Some("ups")),
            order(2, "2025-03-01T16:00:00Z", Some("ups")),
            order(3, "2025-03-01T09:00:00Z", Some("ups")),
            order(4, "2025-03-01T12:00:00Z", Some("dhl")),
            order(5, "2025-03-01T11:00:00Z", Some("ups")),
            order(6, "2025-03-01T08:00:00Z", None),
        ];
        let waves = group_waves(&orders, 2);
        let got: Vec<(String, Option<&str>, Vec<OrderId>)> = waves
            .iter()
            .map(|w| {
                (
                    w.window_start.format("%F").to_string(),
                    w.carrier.as_deref(),
                    w.orders.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2025-03-01".into(), None, vec![id(6)]),
                ("2025-03-01".into(), Some("ups"), vec![id(3), id(5)]),
                ("2025-03-01".into(), Some("dhl"), vec![id(4)]),
                ("2025-03-01".into(), Some("ups"), vec![id(2)]),
                ("2025-03-02".into(), Some("ups"), vec![id(1)]),
            ]
        );
    }

    #[test]
    fn a_shorter_window_splits_a_day_into_waves() {
        let orders = [
            order(1, "2025-03-01T09:00:00Z", Some("ups")),
            order(2, "2025-03-01T15:00:00Z", Some("ups")),
        ];
        let waves = group_waves_in(&orders, Duration::hours(4), 10);
        let starts: Vec<String> = waves.iter().map(|w| w.window_start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            ["2025-03-01T08:00:00+00:00", "2025-03-01T12:00:00+00:00"]
        );
    }

    #[test]
    fn no_orders_make_no_waves() {
        assert!(group_waves(&[], 10).is_empty());
    }
}
