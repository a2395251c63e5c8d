//! The ceiling: stock `pgbench` TPC-B-like on the same server, same client counts, same
//! duration, with its per-transaction log read back for percentiles.

use crate::error::{Context, Result};
use crate::stats::{self, Latency};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

#[derive(Debug, Clone)]
pub struct PgbenchResult {
    pub tps: f64,
    /// The rate asked for with `-R`, when paced.
    pub offered: Option<f64>,
    pub transactions: u64,
    pub failed: u64,
    pub latency_avg_ms: f64,
    /// From the per-transaction log (`-l`).
    pub latency: Latency,
    /// Busy CPU of the whole machine per transaction over the run, ms.
    pub cpu_ms_per_transaction: Option<f64>,
}

async fn pgbench(args: &[String]) -> Result<String> {
    let output = Command::new("pgbench")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .context(|| {
            "cannot run pgbench — install it (Debian: apt-get install postgresql-client) and \
             make sure it is on PATH"
                .to_owned()
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(format!(
            "pgbench {} failed ({}):\n{text}",
            args.join(" "),
            output.status
        )
        .into());
    }
    Ok(text)
}

/// `pgbench -i -s scale` into `url`'s database.
pub async fn init(url: &str, scale: u32) -> Result<()> {
    crate::progress!("pgbench -i -s {scale} (scratch database)");
    pgbench(&[
        "-i".into(),
        "-q".into(),
        "-s".into(),
        scale.to_string(),
        url.into(),
    ])
    .await?;
    Ok(())
}

/// `pgbench -b tpcb-like -c clients -j threads -T duration`, with `-R rate` when paced: then
/// pgbench schedules transactions at that mean rate and times each from its scheduled start,
/// as the paced order runs do, so a queue counts in full.
pub async fn run(
    url: &str,
    clients: usize,
    threads: usize,
    duration: Duration,
    rate: Option<f64>,
) -> Result<PgbenchResult> {
    let rate_arg = rate.map(|r| format!("{:.0}", r.max(1.0)));
    crate::progress!(
        "pgbench -b tpcb-like -c {clients} -j {threads} -T {}{}",
        duration.as_secs(),
        rate_arg
            .as_ref()
            .map(|r| format!(" -R {r}"))
            .unwrap_or_default()
    );
    let logs = std::env::temp_dir().join(format!(
        "tote-bench-pgbench-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&logs).context(|| format!("creating {}", logs.display()))?;
    let prefix = logs.join("tx");
    let mut args: Vec<String> = vec![
        "-b".into(),
        "tpcb-like".into(),
        "-c".into(),
        clients.to_string(),
        "-j".into(),
        threads.min(clients).to_string(),
        "-T".into(),
        duration.as_secs().max(1).to_string(),
        "-l".into(),
        format!("--log-prefix={}", prefix.display()),
    ];
    if let Some(rate) = rate_arg {
        args.extend(["-R".into(), rate]);
    }
    args.push(url.into());
    let cpu_before = crate::cpu::busy_seconds();
    let text = pgbench(&args).await;
    let cpu_after = crate::cpu::busy_seconds();
    let latency = read_logs(&logs);
    let _ = std::fs::remove_dir_all(&logs);
    let text = text?;
    let result = PgbenchResult {
        tps: find(&text, "tps = ").ok_or_else(|| format!("no tps in pgbench output:\n{text}"))?,
        offered: rate,
        transactions: find(&text, "number of transactions actually processed: ").unwrap_or(0.0)
            as u64,
        failed: find(&text, "number of failed transactions: ").unwrap_or(0.0) as u64,
        latency_avg_ms: find(&text, "latency average = ").unwrap_or(f64::NAN),
        latency: latency?,
        cpu_ms_per_transaction: None,
    };
    let result = PgbenchResult {
        cpu_ms_per_transaction: crate::cpu::ms_per(cpu_before, cpu_after, result.transactions),
        ..result
    };
    crate::progress!(
        "  {:.0} tps, p50 {:.1} ms, p99 {:.1} ms",
        result.tps,
        result.latency.p50_ms,
        result.latency.p99_ms
    );
    Ok(result)
}

/// The number after `label` on the first line that has it.
fn find(text: &str, label: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains(label))?;
    let rest = &line[line.find(label)? + label.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Reads every `tx.*` log file: the third field of each line is the latency in µs.
fn read_logs(dir: &Path) -> Result<Latency> {
    let mut hist = stats::histogram();
    for entry in std::fs::read_dir(dir).context(|| format!("reading {}", dir.display()))? {
        let path = entry.context(|| "listing pgbench logs".to_owned())?.path();
        let text =
            std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))?;
        for line in text.lines() {
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|f| f.parse::<u64>().ok())
            {
                stats::record(&mut hist, Duration::from_micros(us));
            }
        }
    }
    Ok(Latency::of(&hist))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_the_summary() {
        let out = "number of transactions actually processed: 1234\n\
                   number of failed transactions: 0 (0.000%)\n\
                   latency average = 12.96 ms\n\
                   tps = 1234.567890 (without initial connection time)\n";
        assert_eq!(super::find(out, "tps = "), Some(1234.56789));
        assert_eq!(super::find(out, "latency average = "), Some(12.96));
        assert_eq!(
            super::find(out, "number of failed transactions: "),
            Some(0.0)
        );
    }
}
