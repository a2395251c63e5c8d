use async_trait::async_trait;
use chrono::NaiveDate;
use kernel::{EventEnvelope, EventId, StoreError, TenantId};
use std::collections::{BTreeMap, HashSet};

/// One tile row: a day, a channel, and how many orders came in and were cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DailyOrderCount {
    pub created: u64,
    pub cancelled: u64,
    /// Sum of order totals in minor units, per the order's currency (one currency per tenant
    /// dashboard for now).
    pub revenue_minor: i64,
}

/// What one event adds to the orders-per-day read model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyIncrement {
    pub tenant_id: TenantId,
    pub day: NaiveDate,
    pub channel: String,
    pub count: DailyOrderCount,
}

/// The increment an `order.*` event makes, or `None` for events this model ignores.
pub fn daily_increment(event: &EventEnvelope) -> Option<DailyIncrement> {
    let count = match event.event_type.as_str() {
        "order.created" => DailyOrderCount {
            created: 1,
            cancelled: 0,
            revenue_minor: event.payload["total"]["amount_minor"].as_i64().unwrap_or(0),
        },
        "order.cancelled" => DailyOrderCount {
            created: 0,
            cancelled: 1,
            revenue_minor: 0,
        },
        _ => return None,
    };
    Some(DailyIncrement {
        tenant_id: event.tenant_id,
        day: event.occurred_at.date_naive(),
        channel: event.payload["channel"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned(),
        count,
    })
}

/// The increments of a batch of events, summed per (tenant, day, channel) in first-seen
/// order: a consumer handling many events at once writes one row per key, not per event.
pub fn combine(increments: impl IntoIterator<Item = DailyIncrement>) -> Vec<DailyIncrement> {
    let mut combined: Vec<DailyIncrement> = Vec::new();
    for inc in increments {
        match combined
            .iter_mut()
            .find(|c| c.tenant_id == inc.tenant_id && c.day == inc.day && c.channel == inc.channel)
        {
            Some(c) => {
                c.count.created += inc.count.created;
                c.count.cancelled += inc.count.cancelled;
                c.count.revenue_minor += inc.count.revenue_minor;
            }
            None => combined.push(inc),
        }
    }
    combined
}

/// Orders per UTC day and channel for one tenant, built from `order.*` events.
/// Applying the same event twice changes nothing (at-least-once delivery).
#[derive(Debug, Clone, Default)]
pub struct DailyOrders {
    pub tenant_id: Option<TenantId>,
    pub rows: BTreeMap<(NaiveDate, String), DailyOrderCount>,
    seen: HashSet<EventId>,
}

impl DailyOrders {
    pub fn apply(&mut self, event: &EventEnvelope) {
        if self.tenant_id.is_some_and(|t| t != event.tenant_id) || !self.seen.insert(event.id) {
            return;
        }
        self.tenant_id = Some(event.tenant_id);
        let channel = event.payload["channel"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        let row = self
            .rows
            .entry((event.occurred_at.date_naive(), channel))
            .or_default();
        match event.event_type.as_str() {
            "order.created" => {
                row.created += 1;
                row.revenue_minor += event.payload["total"]["amount_minor"].as_i64().unwrap_or(0);
            }
            "order.cancelled" => row.cancelled += 1,
            _ => {}
        }
    }
}

#[async_trait]
pub trait ProjectionStore: Send + Sync {
    async fn load(&self, tenant: TenantId) -> Result<DailyOrders, StoreError>;
    async fn save(&self, tenant: TenantId, projection: &DailyOrders) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use uuid::Uuid;

    fn event(tenant: TenantId, kind: &str, day: u32, channel: &str, total: i64) -> EventEnvelope {
        EventEnvelope::new(
            kind,
            tenant,
            Utc.with_ymd_and_hms(2026, 11, day, 10, 0, 0).unwrap(),
            "order",
            Uuid::now_v7(),
            1,
            json!({ "channel": channel, "total": { "amount_minor": total, "currency": "USD" } }),
            None,
        )
    }

    #[test]
    fn a_batch_is_combined_per_tenant_day_and_channel() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let events = [
            event(a, "order.created", 1, "api", 1000),
            event(a, "order.created", 1, "shopify", 300),
            event(b, "order.created", 1, "api", 700),
            event(a, "order.created", 1, "api", 500),
            event(a, "order.cancelled", 1, "api", 500),
            event(a, "order.created", 2, "api", 50),
        ];
        let combined = combine(events.iter().filter_map(daily_increment));
        let rows: Vec<_> = combined
            .iter()
            .map(|c| {
                (
                    c.tenant_id == a,
                    c.day.format("%d").to_string(),
                    c.channel.as_str(),
                    c.count,
                )
            })
            .collect();
        let count = |created, cancelled, revenue_minor| DailyOrderCount {
            created,
            cancelled,
            revenue_minor,
        };
        assert_eq!(
            rows,
            [
                (true, "01".to_owned(), "api", count(2, 1, 1500)),
                (true, "01".to_owned(), "shopify", count(1, 0, 300)),
                (false, "01".to_owned(), "api", count(1, 0, 700)),
                (true, "02".to_owned(), "api", count(1, 0, 50)),
            ]
        );
        // Combining first writes the same totals as applying one by one.
        let mut one_by_one = DailyOrders::default();
        for e in events.iter().filter(|e| e.tenant_id == a) {
            one_by_one.apply(e);
        }
        let day1 = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(
            one_by_one.rows[&(day1, "api".to_owned())],
            count(2, 1, 1500)
        );
    }

    #[test]
    fn orders_are_counted_per_day_and_channel() {
        let t = TenantId::new();
        let mut p = DailyOrders::default();
        p.apply(&event(t, "order.created", 1, "api", 1000));
        p.apply(&event(t, "order.created", 1, "api", 500));
        p.apply(&event(t, "order.created", 2, "shopify", 700));
        p.apply(&event(t, "order.cancelled", 2, "shopify", 700));
        let day1 = p.rows[&(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), "api".into())];
        assert_eq!((day1.created, day1.revenue_minor), (2, 1500));
        let day2 = p.rows[&(
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            "shopify".into(),
        )];
        assert_eq!((day2.created, day2.cancelled), (1, 1));
    }

    #[test]
    fn a_redelivered_event_is_counted_once() {
        let t = TenantId::new();
        let e = event(t, "order.created", 1, "api", 1000);
        let mut p = DailyOrders::default();
        p.apply(&e);
        p.apply(&e);
        assert_eq!(p.rows.values().next().unwrap().created, 1);
    }

    #[test]
    fn another_tenants_events_are_ignored() {
        let mut p = DailyOrders::default();
        p.apply(&event(TenantId::new(), "order.created", 1, "api", 1));
        p.apply(&event(TenantId::new(), "order.created", 1, "api", 1));
        assert_eq!(p.rows.values().map(|r| r.created).sum::<u64>(), 1);
    }
}
