//! The machine's busy CPU time, from `/proc/stat`: what a run cost in CPU seconds, whoever
//! spent them (PostgreSQL, the app, the load generator, the kernel's network stack). On a
//! shared or noisy machine, CPU time per order moves far less than orders per second.

/// Busy CPU seconds since boot over all cores (`None` where `/proc/stat` is not readable).
pub fn busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    busy_from(&stat)
}

/// Busy and steal seconds (see [`steal_from`]) from one reading of `/proc/stat`.
pub fn busy_and_steal_seconds() -> (Option<f64>, Option<f64>) {
    match std::fs::read_to_string("/proc/stat") {
        Ok(stat) => (busy_from(&stat), steal_from(&stat)),
        Err(_) => (None, None),
    }
}

/// The `cpu` line's ticks: user, nice, system, idle, iowait, irq, softirq, steal, …
/// Ticks are USER_HZ, 100 a second on Linux.
fn cpu_ticks(stat: &str) -> Option<Vec<u64>> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    line.split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect()
}

/// Busy is everything but idle and iowait.
fn busy_from(stat: &str) -> Option<f64> {
    let ticks = cpu_ticks(stat)?;
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
    Some((total - idle) as f64 / 100.0)
}

/// CPU seconds since boot that the hypervisor gave to other guests while this machine's cores
/// were ready to run (`steal`, the 8th field): the share a shared host takes away.
fn steal_from(stat: &str) -> Option<f64> {
    Some(*cpu_ticks(stat)?.get(7)? as f64 / 100.0)
}

/// Steal between two readings as a share of all the cores' time over `window_s`, in %.
pub fn steal_percent(before: Option<f64>, after: Option<f64>, window_s: f64) -> Option<f64> {
    let cores = std::thread::available_parallelism().ok()?.get() as f64;
    match (before, after) {
        (Some(b), Some(a)) if a >= b && window_s > 0.0 => {
            Some((a - b) * 100.0 / (window_s * cores))
        }
        _ => None,
    }
}

/// Milliseconds of busy CPU per unit of work between two readings.
pub fn ms_per(before: Option<f64>, after: Option<f64>, units: u64) -> Option<f64> {
    match (before, after) {
        (Some(b), Some(a)) if units > 0 && a >= b => Some((a - b) * 1000.0 / units as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn busy_time_is_everything_but_idle_and_iowait() {
        let stat = "cpu  100 5 50 800 20 3 7 15 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        // user+nice+system+irq+softirq+steal = 100+5+50+3+7+15 = 180 ticks.
        assert_eq!(super::busy_from(stat), Some(1.8));
        assert_eq!(super::ms_per(Some(1.0), Some(3.0), 1000), Some(2.0));
        assert_eq!(super::ms_per(Some(1.0), None, 1000), None);
    }

    #[test]
    fn steal_is_the_eighth_field() {
        let stat = "cpu  100 5 50 800 20 3 7 15 0 0\n";
        assert_eq!(super::steal_from(stat), Some(0.15));
        assert_eq!(super::steal_from("cpu  1 2 3\n"), None);
        let cores = std::thread::available_parallelism().unwrap().get() as f64;
        let share = super::steal_percent(Some(1.0), Some(2.0), 10.0).unwrap();
        assert!((share - 10.0 / cores).abs() < 1e-9);
        assert_eq!(super::steal_percent(Some(2.0), Some(1.0), 10.0), None);
    }
}
