//! Order placement: request bodies for the load generator, and the HTTP scenario that drives
//! them against a running app.

use crate::app::Api;
use crate::error::Result;
use crate::load::{self, BodyFn, LoadResult, LoadSpec};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::json;
use std::sync::Arc;

/// A 1–3-line order over distinct random SKUs, 1–3 units each.
pub fn random_order(skus: Arc<Vec<String>>) -> BodyFn {
    Arc::new(move |rng| {
        let lines = rng.random_range(1..=3usize).min(skus.len());
        let chosen: Vec<&String> = skus.choose_multiple(rng, lines).collect();
        let lines: Vec<_> = chosen
            .into_iter()
            .map(|sku| {
                json!({
                    "sku": sku,
                    "quantity": rng.random_range(1..=3),
                    "unit_price": { "amount_minor": rng.random_range(100..10_000), "currency": "USD" }
                })
            })
            .collect();
        serde_json::to_vec(&json!({
            "ship_to": { "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "country": "GB" },
            "lines": lines
        }))
        .expect("order JSON")
    })
}

/// One unit of one of `skus`, chosen at random: the contention workload.
pub fn one_unit_of(skus: Arc<Vec<String>>) -> BodyFn {
    Arc::new(move |rng| {
        let sku = skus.choose(rng).expect("at least one SKU");
        serde_json::to_vec(&json!({
            "ship_to": { "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "country": "GB" },
            "lines": [{ "sku": sku, "quantity": 1, "unit_price": { "amount_minor": 999, "currency": "USD" } }]
        }))
        .expect("order JSON")
    })
}

/// Places random orders from `spec.clients` clients and reports rates and latencies.
pub async fn place(api: &Api, skus: Arc<Vec<String>>, spec: &LoadSpec) -> Result<LoadResult> {
    crate::progress!(
        "placing orders: {} clients for {:.0} s ({:.0} s warm-up)",
        spec.clients,
        spec.duration.as_secs_f64(),
        spec.warmup.as_secs_f64()
    );
    let result = load::run(api, "/api/v1/orders", spec, random_order(skus)).await?;
    crate::progress!(
        "  {:.0} orders/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
        result.throughput,
        result.latency.p50_ms,
        result.latency.p99_ms,
        result.error_count
    );
    Ok(result)
}
