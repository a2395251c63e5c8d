//! `seed-scale`: loads one tenant with many products, stock levels and orders straight into
//! PostgreSQL with `COPY … FROM STDIN` — orders and their lines stream on two connections at
//! once. The data is consistent: each SKU's `reserved` is the sum of its lines' `allocated`,
//! and the ledger holds one adjustment and one reservation movement per SKU that sum to the
//! level. The database is kept between runs unless `--reseed` is given.

use crate::error::{Context, Result};
use crate::pg;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use sea_orm::sqlx::{self, PgPool};
use std::fmt::Write;
use std::time::Instant;
use tokio::sync::mpsc;
use uuid::Uuid;

pub struct ScaleSpec {
    pub db_name: String,
    pub orders: u64,
    pub skus: u64,
    pub reseed: bool,
}

pub struct Seeded {
    /// As the superuser (seeding, clean-up).
    pub url: String,
    /// As the app's role, which owns the tables: what the app reads with.
    pub app_url: String,
    pub tenant: Uuid,
    /// A fresh API key for this run.
    pub api_key: String,
    /// Seconds the seed took, when this run seeded.
    pub seed_secs: Option<f64>,
    /// What an earlier run noted about its seed (size, time, date), when this run reused it.
    pub earlier_seed: Option<String>,
    pub orders: u64,
    pub skus: u64,
}

const BATCH: u64 = 10_000;
const DAY_MS: u64 = 86_400_000;

pub fn sku_name(index: u64) -> String {
    format!("SKU-{:07}", index + 1)
}

/// Customers buying through the shop; each has about two of its orders.
const SHOP_CUSTOMERS: u64 = 250_000;

/// The ship-to e-mail of the `index`th seeded order: shop orders (even indexes) carry one,
/// API orders none, as marketplace orders often come without.
pub fn customer_email(index: u64) -> Option<String> {
    index
        .is_multiple_of(2)
        .then(|| format!("customer{}@example.com", (index / 2) % SHOP_CUSTOMERS))
}

fn marker(spec: &ScaleSpec) -> String {
    format!(
        // v2: stock per warehouse (schema 000004). v3: customer e-mails on shop orders.
        "Tote bench scale v3: {} orders, {} SKUs",
        spec.orders, spec.skus
    )
}

/// Reuses the scale database when it holds a finished seed of this size; else builds it.
pub async fn ensure(admin: &PgPool, spec: &ScaleSpec) -> Result<Seeded> {
    let url = pg::url_for(&pg::admin_url(), &spec.db_name);
    let mut seed_secs = None;
    let mut tenant = None;
    pg::ensure_app_role(admin).await?;
    if !spec.reseed
        && pg::exists(admin, &spec.db_name).await?
        && owned_by_app_role(admin, &spec.db_name).await?
    {
        tenant = finished_seed(&url, &marker(spec)).await?;
        match tenant {
            Some(_) => crate::progress!(
                "scale: reusing database {} ({} orders, {} SKUs; --reseed rebuilds it)",
                spec.db_name,
                spec.orders,
                spec.skus
            ),
            None => crate::progress!(
                "scale: {} holds no finished seed of this size; rebuilding",
                spec.db_name
            ),
        }
    }
    let tenant = match tenant {
        Some(t) => t,
        None => {
            let started = Instant::now();
            pg::drop_database(admin, &spec.db_name).await?;
            sqlx::raw_sql(&format!(
                "CREATE DATABASE {} OWNER {}",
                spec.db_name,
                pg::APP_ROLE
            ))
            .execute(admin)
            .await
            .context(|| format!("creating database {}", spec.db_name))?;
            // Migrated by the app's own role, so it owns the tables and the forced
            // row-level security binds it when the scenario reads.
            migrate(&pg::as_app_role(&url)).await?;
            let t = seed(&url, spec).await?;
            let secs = started.elapsed().as_secs_f64();
            crate::progress!("scale: seeded in {secs:.0} s");
            let note = format!(
                "seeded in {secs:.0} s on {} ({} orders, {} SKUs)",
                Utc::now().format("%Y-%m-%d %H:%M UTC"),
                spec.orders,
                spec.skus
            );
            sqlx::raw_sql(&format!("COMMENT ON DATABASE {} IS '{note}'", spec.db_name))
                .execute(admin)
                .await
                .context(|| "noting the seed time on the database".to_owned())?;
            seed_secs = Some(secs);
            t
        }
    };
    let api_key = mint_key(&url, tenant).await?;
    let earlier_seed = match seed_secs {
        Some(_) => None,
        None => sqlx::query_as::<_, (Option<String>,)>(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
        )
        .bind(&spec.db_name)
        .fetch_one(admin)
        .await
        .ok()
        .and_then(|(note,)| note),
    };
    Ok(Seeded {
        earlier_seed,
        app_url: pg::as_app_role(&url),
        url,
        tenant,
        api_key,
        seed_secs,
        orders: spec.orders,
        skus: spec.skus,
    })
}

/// An earlier seed made before the app role owned the database is rebuilt: reads there would
/// run as the superuser, past row-level security.
async fn owned_by_app_role(admin: &PgPool, name: &str) -> Result<bool> {
    let (owner,): (String,) =
        sqlx::query_as("SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(admin)
            .await
            .context(|| format!("reading the owner of {name}"))?;
    Ok(owner == pg::APP_ROLE)
}

async fn migrate(url: &str) -> Result<()> {
    let store = sql::SqlStore::connect(&sql::SqlConfig {
        url: url.to_owned(),
        max_connections: 1,
    })
    .await
    .context(|| format!("connecting to {}", pg::redact(url)))?;
    store
        .migrate()
        .await
        .context(|| "migrating the scale database".to_owned())?;
    store.close().await.ok();
    Ok(())
}

async fn finished_seed(url: &str, marker: &str) -> Result<Option<Uuid>> {
    let pool = pg::pool(url, 1).await?;
    let found: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM tenants WHERE company = $1")
        .bind(marker)
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten();
    pool.close().await;
    Ok(found.map(|(id,)| id))
}

/// Stores a new API key for the tenant and returns its secret.
async fn mint_key(url: &str, tenant: Uuid) -> Result<String> {
    let (key, secret) =
        identity::ApiKey::generate(kernel::TenantId::from_uuid(tenant), "bench", Utc::now());
    let pool = pg::pool(url, 1).await?;
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, prefix, hash, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(key.id.into_uuid())
    .bind(tenant)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(&key.hash)
    .bind(key.created_at)
    .execute(&pool)
    .await
    .context(|| "storing a bench API key".to_owned())?;
    pool.close().await;
    Ok(secret.expose().to_owned())
}

async fn seed(url: &str, spec: &ScaleSpec) -> Result<Uuid> {
    let tenant = Uuid::now_v7();
    let pool = pg::pool(url, 2).await?;
    sqlx::query("INSERT INTO tenants (id, company, email, created_at) VALUES ($1, 'seeding', 'bench@example.com', now())")
        .bind(tenant)
        .execute(&pool)
        .await
        .context(|| "creating the scale tenant".to_owned())?;
    crate::progress!(
        "scale: seeding {} orders over {} SKUs into {} (COPY)",
        spec.orders,
        spec.skus,
        pg::redact(url)
    );
    let reserved = copy_orders(url, tenant, spec).await?;
    crate::progress!("scale: products, stock levels and ledger");
    copy_catalogue(url, tenant, &reserved).await?;
    for table in [
        "orders",
        "order_lines",
        "products",
        "stock_levels",
        "stock_movements",
    ] {
        crate::progress!("scale: VACUUM ANALYZE {table}");
        sqlx::raw_sql(&format!("VACUUM ANALYZE {table}"))
            .execute(&pool)
            .await
            .context(|| format!("VACUUM ANALYZE {table}"))?;
    }
    // Last: the marker that says the seed is complete.
    sqlx::query("UPDATE tenants SET company = $1 WHERE id = $2")
        .bind(marker(spec))
        .bind(tenant)
        .execute(&pool)
        .await
        .context(|| "marking the seed complete".to_owned())?;
    pool.close().await;
    Ok(tenant)
}

/// A COPY on its own connection, fed from a channel; FK triggers off (the data is consistent by
/// construction) when the role may do that.
async fn copy_from(
    url: String,
    statement: &'static str,
    mut rx: mpsc::Receiver<Vec<u8>>,
) -> Result<u64> {
    let mut conn = pg::connect(&url).await?;
    if sqlx::query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .is_err()
    {
        crate::progress!("scale: cannot skip FK checks (not superuser); COPY will be slower");
    }
    let mut copy = conn
        .copy_in_raw(statement)
        .await
        .context(|| statement.to_owned())?;
    while let Some(chunk) = rx.recv().await {
        copy.send(chunk).await.context(|| statement.to_owned())?;
    }
    copy.finish().await.context(|| statement.to_owned())
}

fn ts(millis: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis as i64)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.3f+00")
        .to_string()
}

fn v7(millis: u64, rng: &mut StdRng) -> Uuid {
    let mut bytes = [0u8; 10];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// Streams orders and lines; returns units reserved per SKU index.
async fn copy_orders(url: &str, tenant: Uuid, spec: &ScaleSpec) -> Result<Vec<i64>> {
    let (orders_tx, orders_rx) = mpsc::channel::<Vec<u8>>(4);
    let (lines_tx, lines_rx) = mpsc::channel::<Vec<u8>>(4);
    let orders_copy = tokio::spawn(copy_from(
        url.to_owned(),
        "COPY orders (id, tenant_id, channel, external_id, status, allow_backorder, ship_to, currency, total_minor, version, created_at, updated_at, customer_email) FROM STDIN",
        orders_rx,
    ));
    let lines_copy = tokio::spawn(copy_from(
        url.to_owned(),
        "COPY order_lines (order_id, line_no, tenant_id, sku, quantity, allocated, unit_price_minor, currency) FROM STDIN",
        lines_rx,
    ));
    let (orders, skus) = (spec.orders, spec.skus.max(3));
    let producer = tokio::task::spawn_blocking(move || {
        generate_orders(tenant, orders, skus, &orders_tx, &lines_tx)
    });
    let reserved = producer.await.context(|| "order generator".to_owned())?;
    let copied_orders = orders_copy.await.context(|| "orders COPY".to_owned())??;
    let copied_lines = lines_copy
        .await
        .context(|| "order lines COPY".to_owned())??;
    // A failed COPY also stops the generator; the COPY's error (above) says why.
    let reserved = reserved?;
    crate::progress!("scale: copied {copied_orders} orders and {copied_lines} lines");
    Ok(reserved)
}

fn generate_orders(
    tenant: Uuid,
    orders: u64,
    skus: u64,
    orders_tx: &mpsc::Sender<Vec<u8>>,
    lines_tx: &mpsc::Sender<Vec<u8>>,
) -> Result<Vec<i64>> {
    let mut rng = StdRng::seed_from_u64(42);
    let mut reserved = vec![0i64; skus as usize];
    let now_ms = Utc::now().timestamp_millis() as u64;
    let span = 90 * DAY_MS;
    let step = (span / orders.max(1)).max(1);
    let first_ms = now_ms - step * orders;
    let started = Instant::now();
    let (mut obuf, mut lbuf) = (String::new(), String::new());
    for i in 0..orders {
        let millis = first_ms + i * step;
        let id = v7(millis, &mut rng);
        let at = ts(millis);
        let roll = rng.random_range(0..100);
        let status = match roll {
            0..72 => "allocated",
            72..80 => "partially_allocated",
            80..90 => "backordered",
            _ => "cancelled",
        };
        let n = rng.random_range(1..=3usize);
        let mut picked: Vec<u64> = Vec::with_capacity(n);
        while picked.len() < n {
            let s = rng.random_range(0..skus);
            if !picked.contains(&s) {
                picked.push(s);
            }
        }
        let mut total = 0i64;
        for (line, sku) in picked.iter().enumerate() {
            let price = rng.random_range(100..10_000i64);
            let mut quantity = rng.random_range(1..=3i64);
            let allocated = match status {
                "allocated" => quantity,
                "partially_allocated" if n == 1 => {
                    quantity = quantity.max(2);
                    quantity - 1
                }
                "partially_allocated" if line == 0 => quantity,
                _ => 0,
            };
            reserved[*sku as usize] += allocated;
            total += price * quantity;
            let _ = writeln!(
                lbuf,
                "{id}\t{}\t{tenant}\t{}\t{quantity}\t{allocated}\t{price}\tUSD",
                line + 1,
                sku_name(*sku)
            );
        }
        let (channel, external) = if i % 2 == 0 {
            ("shopify", format!("#{}", 100_000 + i))
        } else {
            ("api", "\\N".to_owned())
        };
        let version = if status == "cancelled" { 2 } else { 1 };
        let email = customer_email(i);
        let (email_json, email_column) = match &email {
            Some(e) => (format!("\"{e}\""), e.as_str()),
            None => ("null".to_owned(), "\\N"),
        };
        let _ = writeln!(
            obuf,
            "{id}\t{tenant}\t{channel}\t{external}\t{status}\ttrue\t\
             {{\"name\": \"Customer {i}\", \"company\": null, \"line1\": \"{} High Street\", \"line2\": null, \"city\": \"London\", \"region\": null, \"postal_code\": \"SW1A 1AA\", \"country\": \"GB\", \"phone\": null, \"email\": {email_json}}}\t\
             USD\t{total}\t{version}\t{at}\t{at}\t{email_column}",
            i % 300 + 1
        );
        if (i + 1) % BATCH == 0 || i + 1 == orders {
            let o = std::mem::take(&mut obuf).into_bytes();
            let l = std::mem::take(&mut lbuf).into_bytes();
            if orders_tx.blocking_send(o).is_err() || lines_tx.blocking_send(l).is_err() {
                return Err("a COPY stream stopped early; see the error above".into());
            }
            if (i + 1) % 100_000 == 0 || i + 1 == orders {
                let secs = started.elapsed().as_secs_f64();
                crate::progress!(
                    "scale: {}/{} orders ({:.0} orders/s, {secs:.0} s)",
                    i + 1,
                    orders,
                    (i + 1) as f64 / secs
                );
            }
        }
    }
    Ok(reserved)
}

async fn copy_catalogue(url: &str, tenant: Uuid, reserved: &[i64]) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    let now_ms = Utc::now().timestamp_millis() as u64;
    let at = ts(now_ms);
    // The tenant's default warehouse, as signup would open it; all seeded stock lives there.
    let warehouse = v7(now_ms, &mut rng);
    let pool = pg::pool(url, 1).await?;
    sqlx::query(
        "INSERT INTO warehouses (id, tenant_id, code, name, priority, is_default, created_at) \
         VALUES ($1, $2, 'MAIN', 'Main warehouse', 0, TRUE, now())",
    )
    .bind(warehouse)
    .bind(tenant)
    .execute(&pool)
    .await
    .context(|| "creating the scale tenant's warehouse".to_owned())?;
    let (mut products, mut levels, mut movements) = (String::new(), String::new(), String::new());
    for (i, reserved) in reserved.iter().enumerate() {
        let sku = sku_name(i as u64);
        let product_id = v7(now_ms, &mut rng);
        let on_hand = reserved + rng.random_range(0..500i64);
        let _ = writeln!(
            products,
            "{product_id}\t{tenant}\t{sku}\tBench product {sku}\t\\N\t{}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t1\t{at}\t{at}",
            rng.random_range(50..2000)
        );
        let version = if *reserved > 0 { 3 } else { 2 };
        let _ = writeln!(
            levels,
            "{tenant}\t{sku}\t{warehouse}\t{on_hand}\t{reserved}\t0\t{version}\t{at}"
        );
        let _ = writeln!(
            movements,
            "{}\t{tenant}\t{warehouse}\t{sku}\tcount\t{on_hand}\t0\t0\tbench seed\t\\N\tbench\t{at}",
            v7(now_ms, &mut rng)
        );
        if *reserved > 0 {
            let _ = writeln!(
                movements,
                "{}\t{tenant}\t{warehouse}\t{sku}\treservation\t0\t{reserved}\t0\t\\N\tbench seed orders\tbench\t{at}",
                v7(now_ms, &mut rng)
            );
        }
    }
    for (statement, data) in [
        (
            "COPY products (id, tenant_id, sku, name, barcode, weight_grams, length_mm, width_mm, height_mm, unit_cost_minor, unit_cost_currency, hs_code, country_of_origin, version, created_at, updated_at) FROM STDIN",
            products,
        ),
        (
            "COPY stock_levels (tenant_id, sku, warehouse_id, on_hand, reserved, incoming, version, updated_at) FROM STDIN",
            levels,
        ),
        (
            "COPY stock_movements (id, tenant_id, warehouse_id, sku, kind, on_hand_delta, reserved_delta, incoming_delta, reason, reference, actor, occurred_at) FROM STDIN",
            movements,
        ),
    ] {
        let (tx, rx) = mpsc::channel(1);
        let copy = tokio::spawn(copy_from(url.to_owned(), statement, rx));
        let _ = tx.send(data.into_bytes()).await;
        drop(tx);
        copy.await.context(|| statement.to_owned())??;
    }
    Ok(())
}

/// When the tenant's first and last orders were placed.
pub async fn created_span(pool: &PgPool, tenant: Uuid) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    sqlx::query_as("SELECT min(created_at), max(created_at) FROM orders WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(pool)
        .await
        .context(|| "reading when the seeded orders were placed".to_owned())
}

/// Picks `count` random existing order ids, for `GET /orders/{id}`.
pub async fn sample_order_ids(pool: &PgPool, tenant: Uuid, count: usize) -> Result<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> =
        sqlx::query_as("SELECT id FROM orders WHERE tenant_id = $1 ORDER BY random() LIMIT $2")
            .bind(tenant)
            .bind(count as i64)
            .fetch_all(pool)
            .await
            .context(|| "sampling order ids".to_owned())?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
