//! Runs the scenarios in order, collects their numbers into a [`Report`] and writes it.

use crate::app;
use crate::contention::{self, ContentionSpec};
use crate::error::{Context, Result};
use crate::load::{LoadResult, LoadSpec};
use crate::machine;
use crate::orders;
use crate::pg;
use crate::pgbench;
use crate::report::{CeilingRow, Outcome, Paced, PacedRun, Report};
use crate::scale::{self, ScaleResult};
use crate::scale_seed::ScaleSpec;
use crate::startup::{self, StartupResult};
use clap::Args;
use clap::builder::PossibleValuesParser;
use sea_orm::sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct Options {
    /// Measured seconds of each load run (after the warm-up) and of each pgbench run.
    #[arg(long, default_value_t = 15)]
    pub duration: u64,
    /// Seconds of load before each measured window.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Client counts for order placement and pgbench, e.g. 16,64.
    #[arg(long, value_delimiter = ',', default_values_t = [16, 64])]
    pub clients: Vec<usize>,
    /// SKUs in the order-placement catalogue.
    #[arg(long, default_value_t = 1000)]
    pub skus: usize,
    /// pgbench's scale factor. Default: the largest client count, as pgbench's documentation
    /// asks of TPC-B: with fewer branch rows than clients its transactions mostly wait on each
    /// other's branch update, and the ceiling measures that contention, not the server.
    #[arg(long)]
    pub pgbench_scale: Option<u32>,
    /// Rounds of Tote-then-pgbench at each client count. The headline is the median round's
    /// ratio: this machine's speed drifts between runs, and alternating pairs cancel most of it.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// The app's database pool in the placement runs (default: the app's own, four per core).
    #[arg(long)]
    pub pool: Option<u32>,
    #[arg(long, default_value_t = 64)]
    pub contention_clients: usize,
    #[arg(long, default_value_t = 10)]
    pub contention_skus: usize,
    /// Units of each contended SKU: small enough to run out during the run.
    #[arg(long, default_value_t = 300)]
    pub contention_stock: i64,
    #[arg(long, default_value_t = 16)]
    pub sqlite_clients: usize,
    #[arg(long, default_value_t = 1_000_000)]
    pub scale_orders: u64,
    #[arg(long, default_value_t = 100_000)]
    pub scale_skus: u64,
    /// Requests per read in the scale scenario.
    #[arg(long, default_value_t = 500)]
    pub scale_requests: usize,
    /// Rebuild the scale database even if it holds a finished seed of this size.
    #[arg(long)]
    pub reseed: bool,
    #[arg(long, default_value = "tote_bench_scale")]
    pub scale_database: String,
    /// Orders in the batch pick-list scenario.
    #[arg(long, default_value_t = 500)]
    pub pick_orders: usize,
    /// Fresh starts of the binary to time.
    #[arg(long, default_value_t = 5)]
    pub starts: usize,
    /// The `tote` binary (default: next to this one, i.e. target/release/tote).
    #[arg(long)]
    pub tote_bin: Option<PathBuf>,
    /// Where to write the report (default docs/BENCHMARKS.md).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scenarios to leave out (`paced`: the paced runs after the closed-loop ones).
    #[arg(long, value_delimiter = ',', value_parser = PossibleValuesParser::new(SCENARIOS))]
    pub skip: Vec<String>,
}

/// What `--skip` can name.
const SCENARIOS: [&str; 7] = [
    "ceiling",
    "paced",
    "contention",
    "scale",
    "sqlite",
    "startup",
    "picking",
];

impl Options {
    /// The scale pgbench is initialised at: as given, else the largest client count.
    pub fn pgbench_scale(&self) -> u32 {
        self.pgbench_scale
            .unwrap_or_else(|| {
                let largest = self.clients.iter().copied().max().unwrap_or(1);
                u32::try_from(largest).unwrap_or(u32::MAX)
            })
            .max(1)
    }

    fn load(&self, clients: usize) -> LoadSpec {
        LoadSpec {
            clients,
            duration: Duration::from_secs(self.duration),
            warmup: Duration::from_secs(self.warmup),
            rate: None,
        }
    }

    fn runs(&self, scenario: &str) -> bool {
        !self.skip.iter().any(|s| s == scenario)
    }
}

pub async fn all(options: Options) -> Result<()> {
    let out = options
        .out
        .clone()
        .unwrap_or_else(crate::default_report_path);
    let report = run(&options, Some(&out), "cargo run --release -p bench -- all").await?;
    crate::progress!("report written to {}", out.display());
    failures(&report)
}

/// Every scenario for about a second, tiny sizes; fails unless each produced numbers.
pub async fn smoke() -> Result<()> {
    let options = Options {
        duration: 1,
        warmup: 0,
        clients: vec![4],
        skus: 20,
        pgbench_scale: Some(1),
        rounds: 1,
        pool: None,
        contention_clients: 8,
        contention_skus: 3,
        contention_stock: 20,
        sqlite_clients: 4,
        scale_orders: 2_000,
        scale_skus: 200,
        scale_requests: 20,
        reseed: true,
        scale_database: format!(
            "tote_t_bench_scale_smoke_{}",
            &uuid::Uuid::now_v7().simple().to_string()[20..]
        ),
        starts: 1,
        pick_orders: 50,
        tote_bin: None,
        out: None,
        skip: Vec::new(),
    };
    let report = run(&options, None, "cargo run -p bench -- smoke").await;
    let admin = pg::pool(&pg::admin_url(), 1).await?;
    pg::drop_database(&admin, &options.scale_database).await?;
    admin.close().await;
    let report = report?;
    println!("{}", report.render());
    failures(&report)?;
    produced_numbers(&report)?;
    crate::progress!("smoke: every scenario ran and produced numbers");
    Ok(())
}

pub async fn seed_scale(spec: ScaleSpec) -> Result<()> {
    let admin = pg::pool(&pg::admin_url(), 2).await?;
    let seeded = crate::scale_seed::ensure(&admin, &spec).await?;
    crate::progress!(
        "scale database {} ready: {} orders, {} SKUs{}",
        spec.db_name,
        seeded.orders,
        seeded.skus,
        seeded
            .seed_secs
            .map(|s| format!(", seeded in {s:.0} s"))
            .unwrap_or_default()
    );
    admin.close().await;
    Ok(())
}

fn outcome<T>(r: Result<T>) -> Outcome<T> {
    Some(r.map_err(|e| e.to_string()))
}

async fn run(options: &Options, out: Option<&Path>, command: &str) -> Result<Report> {
    let admin = pg::pool(&pg::admin_url(), 2).await?;
    let mut report = Report {
        machine: machine::describe(&admin).await?,
        command: command.to_owned(),
        duration_s: options.duration as f64,
        warmup_s: options.warmup as f64,
        pgbench_scale: options.pgbench_scale(),
        rounds: options.rounds.max(1),
        skus: options.skus,
        headline_clients: crate::report::headline_clients(&options.clients),
        pool: match options.pool {
            Some(n) => format!("a pool of {n} connections"),
            None => format!(
                "the app's default pool of {} connections (four per core), whatever the number \
                 of HTTP clients",
                tote::config::default_database_max_connections()
            ),
        },
        ceiling: None,
        paced: Paced::default(),
        contention: None,
        scale: None,
        sqlite: None,
        startup: None,
        picking: None,
    };
    if options.runs("ceiling") {
        crate::progress!("==> 1+2. order placement on PostgreSQL, and the pgbench ceiling");
        match ceiling(&admin, options).await {
            Ok((rows, paced)) => {
                report.ceiling = Some(Ok(rows));
                report.paced = paced;
            }
            Err(e) => report.ceiling = Some(Err(e.to_string())),
        }
        save(&report, out)?;
    }
    if options.runs("contention") {
        crate::progress!("==> 3. contention");
        let spec = ContentionSpec {
            clients: options.contention_clients,
            skus: options.contention_skus,
            stock_per_sku: options.contention_stock,
            duration: Duration::from_secs(options.duration),
        };
        report.contention = outcome(contention::run(&admin, &spec).await);
        save(&report, out)?;
    }
    if options.runs("sqlite") {
        crate::progress!("==> 5. order placement on SQLite");
        report.sqlite = outcome(sqlite(options).await);
        save(&report, out)?;
    }
    if options.runs("startup") {
        crate::progress!("==> 6. start-up and memory of the binary");
        report.startup = outcome(start_up(options).await);
        save(&report, out)?;
    }
    if options.runs("picking") {
        crate::progress!(
            "==> 7. a batch pick list for {} orders",
            options.pick_orders
        );
        let runs = if options.duration <= 1 { 3 } else { 30 };
        report.picking = Some(Ok(crate::picking::run(options.pick_orders, 3, 1000, runs)));
        save(&report, out)?;
    }
    if options.runs("scale") {
        crate::progress!("==> 4. scale");
        let spec = ScaleSpec {
            db_name: options.scale_database.clone(),
            orders: options.scale_orders,
            skus: options.scale_skus,
            reseed: options.reseed,
        };
        report.scale = outcome(scale::run(&admin, &spec, options.scale_requests).await);
        save(&report, out)?;
    }
    admin.close().await;
    Ok(report)
}

fn save(report: &Report, out: Option<&Path>) -> Result<()> {
    if let Some(path) = out {
        std::fs::write(path, report.render()).context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Scenarios 1 and 2: Tote at each N, then pgbench at the same N, alternating; then Tote
/// paced at the target share of pgbench's rate at the headline N.
async fn ceiling(admin: &PgPool, options: &Options) -> Result<(Vec<CeilingRow>, Paced)> {
    let db = pg::Scratch::create(admin, "orders").await?;
    let pgb = match pg::Scratch::create(admin, "pgbench").await {
        Ok(p) => p,
        Err(e) => {
            db.drop(admin).await.ok();
            return Err(e);
        }
    };
    let rows = ceiling_on(admin, &db, &pgb.url, options).await;
    db.drop(admin).await?;
    pgb.drop(admin).await?;
    rows
}

/// The app's pool in the placement runs: its default (four per core), as deployed, unless
/// `--pool` says otherwise. One connection per HTTP client (64, as pgbench opens one session
/// per client) cost more: 64 backends on 2 cores spend the difference switching and waiting
/// on each other's locks (ADR 019). On 2 cores, 8 connections matched 16 flat out and had the
/// shorter tail at a set rate (ADR 025).
pub fn pool_for(options: &Options) -> u32 {
    options
        .pool
        .unwrap_or_else(tote::config::default_database_max_connections)
}

/// Starts the app with the placement runs' pool, pointing `api` at it.
async fn start_for(
    db: &pg::Scratch,
    api: &mut app::Api,
    options: &Options,
) -> Result<app::RunningApp> {
    let running = app::start(&db.app_url, pool_for(options)).await?;
    api.base = running.base.clone();
    Ok(running)
}

/// Stops the app and waits until its connections are gone, so pgbench (up to 64 sessions of
/// its own) never meets a server out of connection slots.
async fn stop(admin: &PgPool, db: &pg::Scratch, running: app::RunningApp) -> Result<()> {
    running.stop();
    pg::wait_disconnected(admin, &db.name).await
}

async fn ceiling_on(
    admin: &PgPool,
    db: &pg::Scratch,
    pgbench_url: &str,
    options: &Options,
) -> Result<(Vec<CeilingRow>, Paced)> {
    let running = app::start(&db.app_url, 16).await?;
    let (mut api, _) = app::signup(&running.base, "Bench orders").await?;
    let skus = Arc::new(app::sku_names("SKU", options.skus));
    crate::progress!("seeding {} SKUs over HTTP", skus.len());
    api.seed_catalogue(&skus, 100_000_000).await?;
    // Seeding raised one event per SKU; let the consumers finish them before measuring.
    orders::drain(&db.url).await?;
    orders::history(&api, skus.clone(), &db.url, options.warmup).await?;
    stop(admin, db, running).await?;
    pgbench::init(pgbench_url, options.pgbench_scale()).await?;
    let mut rows = Vec::new();
    for (round, &clients) in (1..=options.rounds.max(1))
        .flat_map(|round| options.clients.iter().map(move |c| (round, c)))
    {
        orders::vacuum(&db.url).await?;
        let running = start_for(db, &mut api, options).await?;
        let tote = orders::place(&api, skus.clone(), &options.load(clients))
            .await
            .map_err(|e| e.to_string());
        // pgbench must not share the machine with the consumers' backlog: wait it out, and
        // report how far behind they were.
        let drain = orders::drain(&db.url).await.map_err(|e| e.to_string());
        stop(admin, db, running).await?;
        pg::checkpoint(admin).await?;
        let pgbench = pgbench::run(
            pgbench_url,
            clients,
            2,
            Duration::from_secs(options.duration),
            None,
        )
        .await
        .map_err(|e| e.to_string());
        rows.push(CeilingRow {
            round,
            clients,
            tote,
            drain,
            pgbench,
        });
    }
    // The paced runs take their rates from the median round, as the headline does.
    let headline = crate::report::headline_clients(&options.clients);
    let median = crate::report::median_round(&rows, headline);
    let headline_tps = median.map(|(_, p)| p.tps);
    let headline_own = median.map(|(t, _)| t.throughput);
    if !options.runs("paced") {
        return Ok((rows, Paced::default()));
    }
    let paced_run = async |api: &app::Api, rate: f64| -> Result<PacedRun> {
        let spec = LoadSpec {
            rate: Some(rate),
            ..options.load(headline)
        };
        orders::vacuum(&db.url).await?;
        orders::prime(api, skus.clone(), &db.url, headline, options.warmup).await?;
        let load = orders::place(api, skus.clone(), &spec).await?;
        let drain = orders::drain(&db.url).await?;
        Ok(PacedRun { load, drain })
    };
    let mut paced = Paced::default();
    if let Some(tps) = headline_tps {
        let running = start_for(db, &mut api, options).await?;
        paced.target = Some(
            paced_run(&api, crate::report::RATIO_TARGET * tps)
                .await
                .map_err(|e| e.to_string()),
        );
        stop(admin, db, running).await?;
    }
    // The database alone, as hard-pressed as Tote was at the target, right after it (this
    // host's speed drifts within minutes): whether the machine can give that p99 at that load.
    if let (Some(tps), Some(own), Some(Ok(target))) = (headline_tps, headline_own, &paced.target)
        && own > 0.0
    {
        let share = target.load.offered.unwrap_or_default() / own;
        let duration = Duration::from_secs(options.duration);
        pg::checkpoint(admin).await?;
        paced.pgbench_same_share = Some(
            pgbench::run(pgbench_url, headline, 2, duration, Some(share * tps))
                .await
                .map(|result| (share, result))
                .map_err(|e| e.to_string()),
        );
    }
    // How hard Tote can be driven, and what a seller sees on an ordinary busy day.
    if let Some(own) = headline_own {
        let running = start_for(db, &mut api, options).await?;
        let busy = crate::report::BUSY_SHARE * own;
        paced.busy_own = Some(paced_run(&api, busy).await.map_err(|e| e.to_string()));
        paced.half_own = Some(paced_run(&api, own / 2.0).await.map_err(|e| e.to_string()));
        stop(admin, db, running).await?;
    }
    Ok((rows, paced))
}

/// Scenario 5: scenario 1 on a temporary SQLite file.
async fn sqlite(options: &Options) -> Result<LoadResult> {
    let path =
        std::env::temp_dir().join(format!("tote_t_bench_{}.db", uuid::Uuid::now_v7().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let result = async {
        let running = app::start(&url, 1).await?;
        let (api, _) = app::signup(&running.base, "Bench SQLite").await?;
        let skus = Arc::new(app::sku_names("SKU", options.skus));
        crate::progress!("seeding {} SKUs over HTTP", skus.len());
        api.seed_catalogue(&skus, 100_000_000).await?;
        let r = orders::place(&api, skus, &options.load(options.sqlite_clients)).await;
        running.stop();
        r
    }
    .await;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    result
}

/// Scenario 6: the release binary's start-up time and memory.
async fn start_up(options: &Options) -> Result<StartupResult> {
    let binary = options
        .tote_bin
        .clone()
        .unwrap_or_else(startup::default_binary);
    let skus = options.skus.min(100);
    startup::run(
        &binary,
        options.starts,
        &options.load(options.sqlite_clients),
        skus,
    )
    .await
}

/// Fails when a scenario failed, naming each.
fn failures(report: &Report) -> Result<()> {
    let mut failed = Vec::new();
    let mut note = |name: &str, err: Option<&String>| {
        if let Some(e) = err {
            failed.push(format!("{name}: {e}"));
        }
    };
    note(
        "order placement / pgbench",
        report.ceiling.as_ref().and_then(|r| r.as_ref().err()),
    );
    if let Some(Ok(rows)) = &report.ceiling {
        for r in rows {
            note(
                &format!("order placement at {} clients", r.clients),
                r.tote.as_ref().err(),
            );
            note(
                &format!("pgbench at {} clients", r.clients),
                r.pgbench.as_ref().err(),
            );
        }
    }
    for (what, run) in report.paced.runs() {
        note(
            &format!("paced order placement ({what})"),
            run.as_ref().and_then(|r| r.as_ref().err()),
        );
    }
    note(
        "paced pgbench",
        report
            .paced
            .pgbench_same_share
            .as_ref()
            .and_then(|r| r.as_ref().err()),
    );
    note(
        "contention",
        report.contention.as_ref().and_then(|r| r.as_ref().err()),
    );
    note(
        "scale",
        report.scale.as_ref().and_then(|r| r.as_ref().err()),
    );
    note(
        "sqlite",
        report.sqlite.as_ref().and_then(|r| r.as_ref().err()),
    );
    note(
        "start-up",
        report.startup.as_ref().and_then(|r| r.as_ref().err()),
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} scenario(s) failed:\n  {}",
            failed.len(),
            failed.join("\n  ")
        )
        .into())
    }
}

/// The smoke's only assertions: each scenario ran and its numbers exist. No timings.
fn produced_numbers(report: &Report) -> Result<()> {
    let mut missing: Vec<String> = Vec::new();
    let placed = |t: &LoadResult| t.ok_count > 0 && t.error_count == 0;
    match &report.ceiling {
        Some(Ok(rows))
            if rows.iter().all(|r| {
                r.tote.as_ref().is_ok_and(placed)
                    && r.pgbench
                        .as_ref()
                        .is_ok_and(|p| p.tps > 0.0 && p.latency.count > 0)
            }) => {}
        _ => missing.push("order placement on PostgreSQL / pgbench".into()),
    }
    for (rate, run) in report.paced.runs() {
        match run {
            Some(Ok(r)) if placed(&r.load) && r.load.offered.is_some() => {
                // The tail split read the app's own histogram and timed the sends.
                let split = r.load.tail.as_ref();
                if !split.is_some_and(|s| s.in_app.is_some() && s.send_lateness.count > 0) {
                    missing.push(format!("where the slow orders spent it ({rate})"));
                }
            }
            _ => missing.push(format!("paced order placement ({rate})")),
        }
    }
    match &report.paced.pgbench_same_share {
        Some(Ok((_, p))) if p.offered.is_some() && p.latency.count > 0 => {}
        _ => missing.push("paced pgbench".into()),
    }
    match &report.contention {
        Some(Ok(c)) if c.allocated_orders > 0 && c.no_oversell() => {}
        _ => missing.push("contention (allocations and the oversell proof)".into()),
    }
    match &report.scale {
        Some(Ok(ScaleResult { reads, .. }))
            if !reads.is_empty() && reads.iter().all(|r| r.latency.count > 0 && r.errors == 0) => {}
        _ => missing.push("scale reads".into()),
    }
    match &report.sqlite {
        Some(Ok(t)) if placed(t) => {}
        _ => missing.push("order placement on SQLite".into()),
    }
    match &report.picking {
        Some(Ok(p)) if p.latency.count > 0 && p.pick_lines > 0 => {}
        _ => missing.push("batch pick list".into()),
    }
    match &report.startup {
        Some(Ok(s))
            if !s.starts_ms.is_empty() && s.rss_idle_kib > 0 && s.hwm_after_load_kib > 0 => {}
        _ => missing.push("start-up and memory".into()),
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no numbers from: {}", missing.join(", ")).into())
    }
}

#[cfg(test)]
mod tests {
    use super::Options;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        options: Options,
    }

    fn options(args: &[&str]) -> Options {
        Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))
            .unwrap()
            .options
    }

    #[test]
    fn pgbench_is_scaled_to_the_largest_client_count_unless_told() {
        assert_eq!(options(&[]).pgbench_scale(), 64);
        assert_eq!(options(&["--clients", "8,32"]).pgbench_scale(), 32);
        assert_eq!(options(&["--pgbench-scale", "10"]).pgbench_scale(), 10);
    }
}
