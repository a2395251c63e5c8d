//! Contention: many clients ordering one unit each of the same few SKUs until stock runs
//! out, then proof from the database that nothing was oversold.

use crate::app::{self, Api};
use crate::error::{Context, Result};
use crate::load::{self, LoadResult, LoadSpec};
use crate::orders;
use crate::pg;
use sea_orm::sqlx::{self, PgPool};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct SkuCheck {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// Sum of `allocated` over the SKU's order lines.
    pub allocated_in_orders: i64,
    /// Sums of the ledger's deltas.
    pub ledger_on_hand: i64,
    pub ledger_reserved: i64,
}

impl SkuCheck {
    pub fn holds(&self) -> bool {
        self.reserved <= self.on_hand
            && self.reserved == self.allocated_in_orders
            && self.reserved == self.ledger_reserved
            && self.on_hand == self.ledger_on_hand
    }
}

#[derive(Debug, Clone)]
pub struct ContentionResult {
    pub stock_per_sku: i64,
    pub load: LoadResult,
    pub allocated_orders: u64,
    pub backordered_orders: u64,
    pub skus: Vec<SkuCheck>,
    /// Allocated orders counted from HTTP replies equal units reserved in the database.
    pub replies_match_db: bool,
}

impl ContentionResult {
    pub fn no_oversell(&self) -> bool {
        self.skus.iter().all(SkuCheck::holds) && self.replies_match_db
    }
}

pub struct ContentionSpec {
    pub clients: usize,
    pub skus: usize,
    pub stock_per_sku: i64,
    pub duration: std::time::Duration,
}

pub async fn run(admin: &PgPool, spec: &ContentionSpec) -> Result<ContentionResult> {
    crate::progress!(
        "contention: {} clients, {} SKUs × {} units, {:.0} s",
        spec.clients,
        spec.skus,
        spec.stock_per_sku,
        spec.duration.as_secs_f64()
    );
    let db = pg::Scratch::create(admin, "contention").await?;
    let result = run_on(&db, spec).await;
    db.drop(admin).await?;
    result
}

async fn run_on(db: &pg::Scratch, spec: &ContentionSpec) -> Result<ContentionResult> {
    let running = app::start(&db.app_url, 16).await?;
    let (api, tenant) = app::signup(&running.base, "Bench contention").await?;
    let skus = Arc::new(app::sku_names("HOT", spec.skus));
    api.seed_catalogue(&skus, spec.stock_per_sku).await?;
    let load = run_load(&api, skus, spec).await;
    running.stop();
    let load = load?;
    // Read as the superuser: the proof looks at every row, past row-level security.
    let pool = pg::pool(&db.url, 2).await?;
    let checks = check(&pool, &tenant).await;
    pool.close().await;
    let skus = checks?;
    let allocated_orders = *load.totals.get("allocated").unwrap_or(&0);
    let backordered_orders = *load.totals.get("backordered").unwrap_or(&0);
    let reserved: i64 = skus.iter().map(|s| s.reserved).sum();
    let result = ContentionResult {
        stock_per_sku: spec.stock_per_sku,
        allocated_orders,
        backordered_orders,
        replies_match_db: reserved == allocated_orders as i64,
        skus,
        load,
    };
    crate::progress!(
        "  {:.0} orders/s; {}; oversell check {}",
        result.load.throughput,
        load::describe(&result.load.totals),
        if result.no_oversell() {
            "passed"
        } else {
            "FAILED"
        }
    );
    Ok(result)
}

async fn run_load(api: &Api, skus: Arc<Vec<String>>, spec: &ContentionSpec) -> Result<LoadResult> {
    let load_spec = LoadSpec {
        clients: spec.clients,
        duration: spec.duration,
        warmup: std::time::Duration::ZERO,
        rate: None,
    };
    load::run(api, "/api/v1/orders", &load_spec, orders::one_unit_of(skus)).await
}

/// Reads each SKU's level, the allocations of its order lines and its ledger sums.
async fn check(pool: &PgPool, tenant: &str) -> Result<Vec<SkuCheck>> {
    let tenant: uuid::Uuid = tenant.parse().context(|| "tenant id".to_owned())?;
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT s.sku, s.on_hand, s.reserved,
                COALESCE((SELECT SUM(l.allocated) FROM order_lines l
                          WHERE l.tenant_id = s.tenant_id AND l.sku = s.sku), 0)::BIGINT,
                COALESCE((SELECT SUM(m.on_hand_delta) FROM stock_movements m
                          WHERE m.tenant_id = s.tenant_id AND m.sku = s.sku), 0)::BIGINT,
                COALESCE((SELECT SUM(m.reserved_delta) FROM stock_movements m
                          WHERE m.tenant_id = s.tenant_id AND m.sku = s.sku), 0)::BIGINT
         FROM stock_levels s WHERE s.tenant_id = $1 ORDER BY s.sku",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await
    .context(|| "reading stock levels, order lines and the ledger".to_owned())?;
    Ok(rows
        .into_iter()
        .map(
            |(sku, on_hand, reserved, allocated_in_orders, ledger_on_hand, ledger_reserved)| {
                SkuCheck {
                    sku,
                    on_hand,
                    reserved,
                    allocated_in_orders,
                    ledger_on_hand,
                    ledger_reserved,
                }
            },
        )
        .collect())
}
