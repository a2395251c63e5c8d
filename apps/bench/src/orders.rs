//! Order placement: request bodies for the load generator, and the HTTP scenario that drives
//! them against a running app.

use crate::app::Api;
use crate::error::{Context, Result};
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

/// Gives the store a history: 16 clients place orders for `secs` seconds (at least one),
/// unmeasured, and the consumers catch up. PostgreSQL caches a plan per connection for the
/// checks it runs itself (the foreign key of every order line); planned on an empty `orders`
/// table, that check scans the whole table, and it stays so until the table's statistics
/// change — on this machine, with autovacuum off, until the next [`vacuum`]. A real store
/// has history and autovacuum; the benchmark's first run must too.
pub async fn history(api: &Api, skus: Arc<Vec<String>>, url: &str, secs: u64) -> Result<()> {
    unmeasured("placing a history of orders", api, skus, url, 16, secs).await
}

/// Before a paced run: `clients` closed-loop clients for `secs` seconds (at least one),
/// unmeasured, then the consumers catch up. A freshly started app opens its connections as
/// load arrives, and a vacuum has just made every connection plan its statements again; a
/// closed loop absorbs that, while a paced schedule would carry it into the measured window
/// as a backlog that drains only at the spare rate (seconds at 1 s latencies, as measured).
pub async fn prime(
    api: &Api,
    skus: Arc<Vec<String>>,
    url: &str,
    clients: usize,
    secs: u64,
) -> Result<()> {
    unmeasured("priming", api, skus, url, clients, secs).await
}

/// `clients` closed-loop clients for `secs` seconds (at least one), unmeasured; then the
/// consumers catch up.
async fn unmeasured(
    what: &str,
    api: &Api,
    skus: Arc<Vec<String>>,
    url: &str,
    clients: usize,
    secs: u64,
) -> Result<()> {
    let spec = LoadSpec {
        clients,
        duration: std::time::Duration::from_secs(secs.max(1)),
        warmup: std::time::Duration::ZERO,
        rate: None,
    };
    crate::progress!(
        "{what}: {clients} clients for {} s, unmeasured",
        spec.duration.as_secs()
    );
    let result = load::run(api, "/api/v1/orders", &spec, random_order(skus)).await?;
    crate::progress!("  {} orders", (result.throughput * result.window_s).round());
    drain(url).await.map(|_| ())
}

/// How far the event consumers were behind when a load run ended.
#[derive(Debug, Clone)]
pub struct Drain {
    /// Events not yet handed to every consumer when the load stopped.
    pub backlog: i64,
    /// Seconds until the outbox was empty again.
    pub secs: f64,
}

/// `VACUUM (ANALYZE)` of the whole database as `url`'s user, before a measured run: pgbench
/// vacuums its own tables before each of its runs, and production runs autovacuum, which a
/// CI machine may have switched off. Without it every run inherits the dead rows of the runs
/// before it and the planner plans against an empty catalogue's statistics. Then a
/// `CHECKPOINT` (`url`'s user is the superuser), for the reason [`crate::pg::checkpoint`] gives.
pub async fn vacuum(url: &str) -> Result<()> {
    let pool = crate::pg::pool(url, 1).await?;
    let done = async {
        sea_orm::sqlx::raw_sql("VACUUM (ANALYZE)")
            .execute(&pool)
            .await
            .context(|| "vacuuming the orders database".to_owned())?;
        crate::pg::checkpoint(&pool).await
    }
    .await;
    pool.close().await;
    done
}

/// Waits (at most ten minutes) until every outbox event has been handed on, reading the
/// database directly as `url`'s user (the superuser: past row-level security).
pub async fn drain(url: &str) -> Result<Drain> {
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(600);
    let pool = crate::pg::pool(url, 1).await?;
    let started = std::time::Instant::now();
    let count = || async {
        sea_orm::sqlx::query_as::<_, (i64,)>(
            "SELECT count(*) FROM outbox_events WHERE published_at IS NULL",
        )
        .fetch_one(&pool)
        .await
        .map(|(n,)| n)
        .context(|| "counting unpublished events".to_owned())
    };
    let backlog = count().await?;
    let mut left = backlog;
    let mut reported = std::time::Instant::now();
    while left > 0 {
        if started.elapsed() > LIMIT {
            pool.close().await;
            return Err(format!(
                "the outbox did not drain in {} s: {left} of {backlog} events left",
                LIMIT.as_secs()
            )
            .into());
        }
        if reported.elapsed().as_secs() >= 5 {
            crate::progress!("  consumers catching up: {left} events left");
            reported = std::time::Instant::now();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        left = count().await?;
    }
    pool.close().await;
    let secs = started.elapsed().as_secs_f64();
    if backlog > 0 {
        crate::progress!("  consumers were {backlog} events behind; caught up in {secs:.1} s");
    }
    Ok(Drain { backlog, secs })
}
