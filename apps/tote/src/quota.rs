//! Plan limits, checked before the use case: orders per UTC day (429 until midnight) and SKUs in
//! the catalogue (403). Plans are cached per tenant for a minute; an unlimited plan costs no
//! query at all. Concurrent requests at the very edge may overshoot by the number in flight.

use crate::error::ApiError;
use crate::state::AppState;
use chrono::{Duration, Utc};
use identity::Plan;
use kernel::TenantId;

async fn plan(state: &AppState, tenant: TenantId) -> Result<Plan, ApiError> {
    if let Some(plan) = state.limits.plans.get(tenant) {
        return Ok(plan);
    }
    let plan = state.identity.plan(tenant).await?;
    state.limits.plans.put(tenant, plan);
    Ok(plan)
}

pub async fn admit_order(state: &AppState, tenant: TenantId) -> Result<(), ApiError> {
    let plan = plan(state, tenant).await?;
    if plan.orders_per_day.is_none() {
        return Ok(());
    }
    let now = Utc::now();
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let used = state.store.orders_since(tenant, midnight).await?;
    plan.admit_order(used).map_err(|q| {
        let retry = (midnight + Duration::days(1) - now).num_seconds().max(1) as u64;
        ApiError::quota(
            format!(
                "your plan allows {} orders a day (UTC); more tomorrow, or upgrade",
                q.limit
            ),
            q.limit,
            Some(retry),
        )
    })
}

pub async fn admit_sku(state: &AppState, tenant: TenantId) -> Result<(), ApiError> {
    let plan = plan(state, tenant).await?;
    if plan.max_skus.is_none() {
        return Ok(());
    }
    let used = state.store.sku_count(tenant).await?;
    plan.admit_sku(used).map_err(|q| {
        ApiError::quota(
            format!("your plan allows {} SKUs; upgrade to add more", q.limit),
            q.limit,
            None,
        )
    })
}
