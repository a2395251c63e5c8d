//! In-process rate limits: a fixed window per key. Each API pod counts for itself; behind N
//! pods a tenant gets up to N × its rate (see docs/adr/008). Login is counted per IP and per
//! account; tenants per request. Plan limits (orders/day, SKUs) come from the database, cached.

use identity::Plan;
use kernel::TenantId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `limit` hits per `window` for each key; the next one is refused until the window ends.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit. `Err(seconds)`: over the limit, retry after that many seconds.
    /// A limit of 0 means unlimited.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        self.hit_at(key, Instant::now())
    }

    fn hit_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 100_000 {
            let window = self.window;
            hits.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = hits.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs() + u64::from(left.subsec_nanos() > 0));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// Tenants' plans, read from the database at most once a minute per tenant, so quota checks
/// add no query to the order hot path beyond the usage count of a limited tenant.
#[derive(Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<TenantId, (Instant, Plan)>>,
}

pub const PLAN_TTL: Duration = Duration::from_secs(60);

impl PlanCache {
    pub fn get(&self, tenant: TenantId) -> Option<Plan> {
        let plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        plans
            .get(&tenant)
            .filter(|(at, _)| at.elapsed() < PLAN_TTL)
            .map(|(_, p)| *p)
    }

    pub fn put(&self, tenant: TenantId, plan: Plan) {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        plans.insert(tenant, (Instant::now(), plan));
    }

    pub fn forget(&self, tenant: TenantId) {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        plans.remove(&tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_trips_exactly_at_its_number_and_resets_with_the_window() {
        let l = RateLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.hit_at("ip:1", t0).is_ok());
        }
        assert_eq!(l.hit_at("ip:1", t0 + Duration::from_millis(500)), Err(60));
        assert!(l.hit_at("ip:2", t0).is_ok(), "keys are separate");
        assert!(l.hit_at("ip:1", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn zero_is_unlimited() {
        let l = RateLimiter::new(0, Duration::from_secs(60));
        for _ in 0..1000 {
            assert!(l.hit("k").is_ok());
        }
    }
}
