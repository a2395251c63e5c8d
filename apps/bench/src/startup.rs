//! Start-up and memory of the real binary: spawn `tote serve` on a fresh SQLite file, time
//! until `/health` answers (migrations included), read VmRSS idle, put order load on it, then
//! read VmHWM (the peak).

use crate::app;
use crate::error::{Context, Result};
use crate::load::{LoadResult, LoadSpec};
use crate::orders;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct StartupResult {
    pub binary: String,
    /// Spawn → first 200 from /health, one per fresh start, in ms.
    pub starts_ms: Vec<f64>,
    pub rss_idle_kib: u64,
    pub rss_after_load_kib: u64,
    pub hwm_after_load_kib: u64,
    pub load: LoadResult,
}

/// `tote` next to this executable (same profile), unless given.
pub fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("tote")))
        .unwrap_or_else(|| PathBuf::from("target/release/tote"))
}

struct Spawned {
    child: Child,
    db: PathBuf,
    base: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.db.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context(|| "finding a free port".to_owned())?;
    Ok(listener
        .local_addr()
        .context(|| "finding a free port".to_owned())?
        .port())
}

/// Spawns the binary on a fresh SQLite file and waits for `/health`; returns it and the time.
async fn spawn(binary: &Path, http: &reqwest::Client) -> Result<(Spawned, Duration)> {
    let db = std::env::temp_dir().join(format!(
        "tote_t_bench_start_{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    let port = free_port()?;
    let started = Instant::now();
    let child = Command::new(binary)
        .arg("serve")
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", db.display()))
        .env("TOTE_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("TOTE_LOG_FORMAT", "json")
        // The memory under load is the platform's, not the per-tenant request limit's: left
        // at its default (6,000 a minute) most of the load would be answered 429.
        .env("TOTE_TENANT_RATE_PER_MINUTE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context(|| {
            format!(
                "cannot run {} — build it first: cargo build --release -p tote (or pass --tote-bin)",
                binary.display()
            )
        })?;
    let mut spawned = Spawned {
        child,
        db,
        base: format!("http://127.0.0.1:{port}"),
    };
    let health = format!("{}/health", spawned.base);
    loop {
        if let Ok(r) = http.get(&health).send().await
            && r.status() == reqwest::StatusCode::OK
        {
            return Ok((spawned, started.elapsed()));
        }
        if let Ok(Some(status)) = spawned.child.try_wait() {
            return Err(format!(
                "{} serve exited with {status} before answering /health",
                binary.display()
            )
            .into());
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err("tote did not answer /health within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
fn memory(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

pub async fn run(
    binary: &Path,
    starts: usize,
    load: &LoadSpec,
    skus: usize,
) -> Result<StartupResult> {
    crate::progress!(
        "start-up: {} × `{} serve` on a fresh SQLite file",
        starts,
        binary.display()
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .context(|| "HTTP client".to_owned())?;
    let mut starts_ms = Vec::new();
    for _ in 1..starts.max(1) {
        let (_spawned, took) = spawn(binary, &http).await?;
        starts_ms.push(took.as_secs_f64() * 1000.0);
    }
    let (spawned, took) = spawn(binary, &http).await?;
    starts_ms.push(took.as_secs_f64() * 1000.0);
    let pid = spawned.child.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_idle_kib, _) = memory(pid)?;
    crate::progress!(
        "  started in {:.0} ms; idle RSS {} KiB; now loading it",
        took.as_secs_f64() * 1000.0,
        rss_idle_kib
    );
    let (api, _) = app::signup(&spawned.base, "Bench memory").await?;
    let names = Arc::new(app::sku_names("MEM", skus));
    api.seed_catalogue(&names, 100_000_000).await?;
    let load = orders::place(&api, names, load).await?;
    let (rss_after_load_kib, hwm_after_load_kib) = memory(pid)?;
    crate::progress!(
        "  after load: RSS {rss_after_load_kib} KiB, peak (VmHWM) {hwm_after_load_kib} KiB"
    );
    drop(spawned);
    Ok(StartupResult {
        binary: binary.display().to_string(),
        starts_ms,
        rss_idle_kib,
        rss_after_load_kib,
        hwm_after_load_kib,
        load,
    })
}
