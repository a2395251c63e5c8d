//! Scale: read latencies against a large tenant (see `scale_seed`), one request at a time, so
//! each number is a query's latency rather than a queue's.

use crate::app::{self, Api};
use crate::error::Result;
use crate::pg;
use crate::scale_seed::{self, ScaleSpec, Seeded};
use crate::stats::{self, Latency};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sqlx::PgPool;
use serde_json::Value;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ReadResult {
    pub name: String,
    pub latency: Latency,
    pub errors: u64,
}

#[derive(Debug, Clone)]
pub struct ScaleResult {
    pub orders: u64,
    pub skus: u64,
    pub seed_secs: Option<f64>,
    pub earlier_seed: Option<String>,
    pub database: String,
    pub reads: Vec<ReadResult>,
}

pub async fn run(admin: &PgPool, spec: &ScaleSpec, requests: usize) -> Result<ScaleResult> {
    let seeded = scale_seed::ensure(admin, spec).await?;
    let result = measure(&seeded, requests).await;
    let result = result.map(|reads| ScaleResult {
        orders: seeded.orders,
        skus: seeded.skus,
        seed_secs: seeded.seed_secs,
        earlier_seed: seeded.earlier_seed.clone(),
        database: spec.db_name.clone(),
        reads,
    });
    let pool = pg::pool(&seeded.url, 1).await?;
    let _ = sea_orm::sqlx::query("DELETE FROM api_keys WHERE name = 'bench' AND tenant_id = $1")
        .bind(seeded.tenant)
        .execute(&pool)
        .await;
    pool.close().await;
    result
}

async fn measure(seeded: &Seeded, requests: usize) -> Result<Vec<ReadResult>> {
    let running = app::start(&seeded.app_url, 16).await?;
    let api = Api {
        base: running.base.clone(),
        key: seeded.api_key.clone(),
        client: app::client(4)?,
    };
    let pool = pg::pool(&seeded.url, 1).await?;
    let ids = scale_seed::sample_order_ids(&pool, seeded.tenant, requests).await?;
    let (first, last) = scale_seed::created_span(&pool, seeded.tenant).await?;
    pool.close().await;
    let mut rng = StdRng::seed_from_u64(99);
    let skus: Vec<String> = (0..requests)
        .map(|_| scale_seed::sku_name(rng.random_range(0..seeded.skus.max(1))))
        .collect();
    let emails: Vec<String> = (0..requests)
        .filter_map(|_| {
            scale_seed::customer_email(rng.random_range(0..(seeded.orders / 2).max(1)) * 2)
        })
        .collect();
    // One day of the seeded history, anywhere in it: "what the shop sold on the 3rd".
    let days = (last - first).num_days().max(1);
    let windows: Vec<(String, String)> = (0..requests)
        .map(|_| {
            let from = first + chrono::Duration::days(rng.random_range(0..days));
            let to = from + chrono::Duration::days(1);
            let rfc = |t: chrono::DateTime<chrono::Utc>| {
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            (rfc(from), rfc(to))
        })
        .collect();
    let walks = requests.div_ceil(5);
    let mut reads = Vec::new();
    // Warm the connection pool and caches a little, as a running service would be.
    for _ in 0..20 {
        let _ = get(&api, "/api/v1/orders?limit=50").await;
    }
    reads.push(
        repeat(&api, "GET /orders?limit=50", requests, |_| {
            "/api/v1/orders?limit=50".into()
        })
        .await,
    );
    reads.push(
        repeat(
            &api,
            "GET /orders?status=backordered&limit=50",
            requests,
            |_| "/api/v1/orders?status=backordered&limit=50".into(),
        )
        .await,
    );
    let starts: Vec<String> = ids
        .iter()
        .take(walks)
        .map(|id| tote::routes::encode_cursor(&id.to_string()))
        .collect();
    let (page, walk) = paging(&api, &starts).await;
    reads.push(page);
    reads.push(walk);
    reads.push(
        repeat(&api, "GET /orders/{random id}", ids.len(), |i| {
            format!("/api/v1/orders/{}", ids[i])
        })
        .await,
    );
    reads.push(
        repeat(
            &api,
            "GET /orders?sku={random sku}&limit=50",
            skus.len(),
            |i| format!("/api/v1/orders?sku={}&limit=50", skus[i]),
        )
        .await,
    );
    reads.push(
        repeat(
            &api,
            "GET /orders?customer_email={a customer}&limit=50",
            emails.len(),
            |i| format!("/api/v1/orders?customer_email={}&limit=50", emails[i]),
        )
        .await,
    );
    reads.push(
        repeat(
            &api,
            "GET /orders?channel=shopify&created_from={day}&created_before={next day}&limit=50",
            windows.len(),
            |i| {
                let (from, to) = &windows[i];
                format!(
                    "/api/v1/orders?channel=shopify&created_from={from}&created_before={to}&limit=50"
                )
            },
        )
        .await,
    );
    reads.push(
        repeat(&api, "GET /inventory/{random sku}", skus.len(), |i| {
            format!("/api/v1/inventory/{}", skus[i])
        })
        .await,
    );
    running.stop();
    for r in &reads {
        crate::progress!(
            "  {:<45} p50 {:>6.2} ms  p95 {:>6.2} ms  errors {}",
            r.name,
            r.latency.p50_ms,
            r.latency.p95_ms,
            r.errors
        );
    }
    Ok(reads)
}

/// GET and read the JSON body; `None` unless 200.
async fn get(api: &Api, path: &str) -> Option<Value> {
    let response = api
        .client
        .get(api.url(path))
        .bearer_auth(&api.key)
        .send()
        .await
        .ok()?;
    let ok = response.status() == reqwest::StatusCode::OK;
    let body = response.bytes().await.ok()?;
    ok.then(|| serde_json::from_slice(&body).ok()).flatten()
}

async fn repeat(api: &Api, name: &str, count: usize, path: impl Fn(usize) -> String) -> ReadResult {
    crate::progress!("scale: {count} × {name}");
    let mut hist = stats::histogram();
    let mut errors = 0;
    for i in 0..count {
        let path = path(i);
        let started = Instant::now();
        let ok = get(api, &path).await.is_some();
        stats::record(&mut hist, started.elapsed());
        errors += u64::from(!ok);
    }
    ReadResult {
        name: name.to_owned(),
        latency: Latency::of(&hist),
        errors,
    }
}

/// From each start cursor, follows `next_cursor` through five pages of 50: the latency of each
/// page, and of each whole five-page walk.
async fn paging(api: &Api, starts: &[String]) -> (ReadResult, ReadResult) {
    crate::progress!(
        "scale: {} walks × 5 pages from random cursors",
        starts.len()
    );
    let (mut pages, mut walks): (Histogram<u64>, Histogram<u64>) =
        (stats::histogram(), stats::histogram());
    let mut errors = 0;
    for start in starts {
        let walk_started = Instant::now();
        let mut cursor = Some(start.clone());
        for _ in 0..5 {
            let Some(c) = cursor.take() else { break };
            let started = Instant::now();
            let body = get(api, &format!("/api/v1/orders?limit=50&cursor={c}")).await;
            stats::record(&mut pages, started.elapsed());
            match body {
                Some(b) => cursor = b["next_cursor"].as_str().map(str::to_owned),
                None => errors += 1,
            }
        }
        stats::record(&mut walks, walk_started.elapsed());
    }
    let result = |name: &str, h: &Histogram<u64>| ReadResult {
        name: name.to_owned(),
        latency: Latency::of(h),
        errors,
    };
    (
        result("GET /orders?limit=50&cursor=… (each of 5 pages)", &pages),
        result("5-page walk, total", &walks),
    )
}
