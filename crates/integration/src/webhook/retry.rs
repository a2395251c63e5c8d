use std::time::Duration;

/// Deliveries tried this many times (over more than 24 hours) before they are dead.
pub const MAX_ATTEMPTS: u32 = 17;
const BASE_SECS: f64 = 30.0;
const CAP_SECS: f64 = 4.0 * 3600.0;

/// How long to wait after failed attempt number `attempt` (1-based): 30 s doubling up to 4 h,
/// scaled by `jitter` in `[0.8, 1.2]` so failing endpoints are not hit in lockstep.
/// `None` once the attempts are used up: the delivery is dead.
pub fn retry_delay(attempt: u32, jitter: f64) -> Option<Duration> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let exp = BASE_SECS * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    Some(Duration::from_secs_f64(
        exp.min(CAP_SECS) * jitter.clamp(0.8, 1.2),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_thirty_seconds_up_to_four_hours() {
        let secs: Vec<u64> = (1..=11)
            .map(|a| retry_delay(a, 1.0).unwrap().as_secs())
            .collect();
        assert_eq!(
            secs,
            vec![30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 14400, 14400]
        );
    }

    #[test]
    fn retries_span_more_than_a_day_even_with_the_shortest_jitter_then_stop() {
        let total: Duration = (1..MAX_ATTEMPTS)
            .map(|a| retry_delay(a, 0.8).unwrap())
            .sum();
        assert!(total >= Duration::from_secs(24 * 3600), "{total:?}");
        assert_eq!(retry_delay(MAX_ATTEMPTS, 1.0), None);
    }

    #[test]
    fn jitter_is_bounded() {
        assert_eq!(retry_delay(1, 5.0).unwrap().as_secs(), 36);
        assert_eq!(retry_delay(1, 0.0).unwrap().as_secs(), 24);
    }
}
