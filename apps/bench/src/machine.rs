//! What the numbers were measured on: CPU, memory, PostgreSQL, the date and the commit.

use crate::error::Result;
use crate::pg;
use sea_orm::sqlx::PgPool;

#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub ram_gib: f64,
    pub kernel: String,
    pub postgres: String,
    pub postgres_settings: String,
    pub date_utc: String,
    pub commit: String,
    /// `/proc/loadavg` when the run began: other work on a shared machine shows up here.
    pub load_at_start: String,
}

pub async fn describe(admin: &PgPool) -> Result<Machine> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpu_model(&cpuinfo);
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let cores = if cores > 0 {
        cores
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let mut settings = Vec::new();
    for name in [
        "shared_buffers",
        "max_connections",
        "synchronous_commit",
        "fsync",
        "autovacuum",
    ] {
        settings.push(format!("{name}={}", pg::setting(admin, name).await?));
    }
    Ok(Machine {
        cpu_model,
        cores,
        ram_gib: ram_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
        postgres: pg::setting(admin, "server_version").await?,
        postgres_settings: settings.join(", "),
        date_utc: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        commit: git_commit(),
        load_at_start: load_average(),
    })
}

/// The first core's model name, with its family, model and clock where `/proc/cpuinfo` gives
/// them: a hypervisor may name two processor generations alike ("AMD EPYC"), and the same
/// benchmark ran over twice as fast on one as on the other.
fn cpu_model(cpuinfo: &str) -> String {
    let field = |name: &str| {
        cpuinfo
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .find(|l| l.split_once(':').is_some_and(|(k, _)| k.trim() == name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let name = field("model name").unwrap_or_else(|| "unknown".into());
    let mut detail = Vec::new();
    if let (Some(family), Some(model)) = (field("cpu family"), field("model")) {
        detail.push(format!("family {family}, model {model}"));
    }
    if let Some(mhz) = field("cpu MHz").and_then(|m| m.parse::<f64>().ok()) {
        detail.push(format!("{mhz:.0} MHz"));
    }
    if detail.is_empty() {
        name
    } else {
        format!("{name} ({})", detail.join(", "))
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `abc1234` (or `abc1234 + uncommitted changes`).
fn git_commit() -> String {
    let Some(head) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown (not a git checkout)".into();
    };
    let dirty = git(&["status", "--porcelain", "--", ".", ":!docs/BENCHMARKS.md"])
        .is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head} + uncommitted changes")
    } else {
        head
    }
}

/// The 1, 5 and 15-minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::cpu_model;

    #[test]
    fn the_cpu_row_tells_generations_apart() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\n\
                       model\t\t: 2\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2596.104\n\n\
                       processor\t: 1\ncpu family\t: 25\nmodel\t\t: 1\n";
        assert_eq!(
            cpu_model(cpuinfo),
            "AMD EPYC (family 26, model 2, 2596 MHz)"
        );
    }

    #[test]
    fn a_cpuinfo_without_details_gives_the_name_or_unknown() {
        assert_eq!(cpu_model("model name\t: Some CPU\n"), "Some CPU");
        assert_eq!(cpu_model(""), "unknown");
    }
}
