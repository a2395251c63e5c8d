//! Where a paced run's slow orders spent their time: inside Tote's HTTP layer, or around it.
//!
//! The clients time each order from its scheduled time to its answer. Tote's own `/metrics`
//! histogram (`tote_http_requests_duration_seconds`, actix-web-prom) times it from the
//! request's arrival in the app to its response. Reading that histogram at both ends of the
//! measured window tells how many orders were already slow inside the app; the rest of a
//! slow order's time went to the load generator, loopback TCP and waiting for a core. The
//! histogram has a bucket at exactly the p99 target (25 ms), so no interpolation is needed.

use crate::stats::Latency;

/// The bucket bound, in seconds, of Tote's HTTP histogram that the split counts above.
pub const SERVER_BUCKET: &str = "0.025";

/// One paced run's slow orders, seen from both sides.
#[derive(Debug, Clone, Default)]
pub struct TailSplit {
    /// Orders answered in the measured window.
    pub answered: u64,
    /// Of those, over the target as the clients timed them (from the scheduled time).
    pub over_at_client: u64,
    /// The same window inside the app's HTTP layer; `None` when its metrics could not be read.
    pub in_app: Option<InApp>,
    /// How long after its scheduled time the load generator sent each request.
    pub send_lateness: Latency,
}

/// Order placements the app answered between two readings of its metrics, and how many of
/// them took over the target inside it. Its window is the client's, give or take the orders in
/// flight at either end, so its share is of its own count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InApp {
    pub answered: u64,
    pub over: u64,
}

/// Order placements (`POST /api/v1/orders`, any status) in Tote's HTTP histogram, from the
/// Prometheus text `metrics`: `(all, at or under SERVER_BUCKET)`. `None` if none is there.
pub fn order_counts(metrics: &str) -> Option<(u64, u64)> {
    let bucket = format!("le=\"{SERVER_BUCKET}\"");
    let mut all = None::<u64>;
    let mut fast = 0u64;
    for line in metrics.lines() {
        if !line.starts_with("tote_http_requests_duration_seconds")
            || !line.contains("endpoint=\"/api/v1/orders\"")
            || !line.contains("method=\"POST\"")
        {
            continue;
        }
        let Some(value) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) else {
            continue;
        };
        let value = value as u64;
        if line.starts_with("tote_http_requests_duration_seconds_count") {
            *all.get_or_insert(0) += value;
        } else if line.contains(&bucket) {
            fast += value;
        }
    }
    all.map(|all| (all, fast))
}

/// The app's answers, and those over [`SERVER_BUCKET`], between two readings of its metrics.
pub fn in_app_between(before: &str, after: &str) -> Option<InApp> {
    let (all_0, fast_0) = order_counts(before).unwrap_or((0, 0));
    let (all_1, fast_1) = order_counts(after)?;
    Some(InApp {
        answered: all_1.saturating_sub(all_0),
        over: (all_1 - fast_1).saturating_sub(all_0 - fast_0),
    })
}

/// Reads the app's Prometheus metrics at `url`.
pub async fn read_metrics(client: &reqwest::Client, url: &str) -> Option<String> {
    client.get(url).send().await.ok()?.text().await.ok()
}

/// `part` as a percentage of `whole`, "–" for no whole.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".to_owned()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

/// The headline's sentence on where the target run's slow orders spent their time.
pub fn headline(split: &TailSplit) -> String {
    let app = match split.in_app {
        Some(app) => format!(
            "{} ({} of the app's own count) were already that slow inside Tote's HTTP layer \
             (its `/metrics` histogram), and the other {} lost their time outside it: to the \
             load generator, loopback TCP and waiting for a core",
            app.over,
            percent(app.over, app.answered),
            split.over_at_client.saturating_sub(app.over),
        ),
        None => "Tote's own `/metrics` histogram could not be read".to_owned(),
    };
    format!(
        "- **Where the slow ones spent it:** of the target run's {} orders, {} ({}) took over \
         {} ms as the clients timed them; {app}. The load generator sent requests a median \
         {:.2} ms (p99 {:.1} ms) after their scheduled time.",
        split.answered,
        split.over_at_client,
        percent(split.over_at_client, split.answered),
        crate::report::P99_TARGET_MS,
        split.send_lateness.p50_ms,
        split.send_lateness.p99_ms,
    )
}

/// A table row for one paced run: answered, over the target at the client and inside the
/// app, the load generator's send lateness, and the machine's CPU per order (which rises
/// when this shared host slows down, so it tells a slow phase from a slow run), and the
/// hypervisor's steal over the window.
pub fn row(
    label: &str,
    split: &TailSplit,
    cpu_ms_per_order: Option<f64>,
    steal_percent: Option<f64>,
) -> String {
    let app = match split.in_app {
        Some(app) => format!("{} ({})", app.over, percent(app.over, app.answered)),
        None => "unread".to_owned(),
    };
    let cpu = cpu_ms_per_order.map_or("–".to_owned(), |c| format!("{c:.2}"));
    let steal = steal_percent.map_or("–".to_owned(), |s| format!("{s:.1} %"));
    format!(
        "| {label} | {} | {} ({}) | {app} | {:.2} / {:.1} | {cpu} | {steal} |",
        split.answered,
        split.over_at_client,
        percent(split.over_at_client, split.answered),
        split.send_lateness.p50_ms,
        split.send_lateness.p99_ms,
    )
}

/// The table's head.
pub fn table_head() -> String {
    format!(
        "| Run | Orders answered | Over {0} ms at the clients | Over {0} ms inside Tote's HTTP \
         layer | Send lateness p50 / p99 ms | CPU ms per order | Host steal |\n\
         |---|---:|---:|---:|---:|---:|---:|",
        crate::report::P99_TARGET_MS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(fast_201: u64, all_201: u64, all_409: u64) -> String {
        format!(
            "# HELP tote_http_requests_duration_seconds HTTP request duration in seconds\n\
             tote_http_requests_duration_seconds_bucket{{endpoint=\"/api/v1/orders\",method=\"POST\",status=\"201\",le=\"0.01\"}} 1\n\
             tote_http_requests_duration_seconds_bucket{{endpoint=\"/api/v1/orders\",method=\"POST\",status=\"201\",le=\"0.025\"}} {fast_201}\n\
             tote_http_requests_duration_seconds_bucket{{endpoint=\"/api/v1/orders\",method=\"POST\",status=\"201\",le=\"+Inf\"}} {all_201}\n\
             tote_http_requests_duration_seconds_count{{endpoint=\"/api/v1/orders\",method=\"POST\",status=\"201\"}} {all_201}\n\
             tote_http_requests_duration_seconds_bucket{{endpoint=\"/api/v1/orders\",method=\"POST\",status=\"409\",le=\"0.025\"}} {all_409}\n\
             tote_http_requests_duration_seconds_count{{endpoint=\"/api/v1/orders\",method=\"POST\",status=\"409\"}} {all_409}\n\
             tote_http_requests_duration_seconds_bucket{{endpoint=\"/api/v1/orders\",method=\"GET\",status=\"200\",le=\"0.025\"}} 0\n\
             tote_http_requests_duration_seconds_count{{endpoint=\"/api/v1/orders\",method=\"GET\",status=\"200\"}} 900\n\
             tote_http_requests_total{{endpoint=\"/api/v1/orders\",method=\"POST\",status=\"201\"}} {all_201}\n"
        )
    }

    fn split(over: Option<u64>) -> TailSplit {
        TailSplit {
            answered: 2000,
            over_at_client: 30,
            in_app: over.map(|over| InApp {
                answered: 2010,
                over,
            }),
            send_lateness: Latency {
                count: 2000,
                p50_ms: 0.21,
                p95_ms: 1.0,
                p99_ms: 3.9,
                max_ms: 12.0,
            },
        }
    }

    #[test]
    fn a_row_shows_both_sides_as_counts_and_shares() {
        assert_eq!(
            row("target", &split(Some(12)), Some(1.954), Some(3.26)),
            "| target | 2000 | 30 (1.5 %) | 12 (0.6 %) | 0.21 / 3.9 | 1.95 | 3.3 % |"
        );
        assert!(
            row("target", &split(None), None, None).contains("| unread | 0.21 / 3.9 | – | – |")
        );
        assert!(
            headline(&split(Some(12)))
                .contains("12 (0.6 % of the app's own count) were already that slow")
        );
        assert!(headline(&split(Some(12))).contains("the other 18 lost their time outside it"));
        assert!(headline(&split(None)).contains("could not be read"));
    }

    #[test]
    fn the_bucket_is_the_p99_target() {
        let secs: f64 = SERVER_BUCKET.parse().unwrap();
        assert_eq!(secs * 1000.0, crate::report::P99_TARGET_MS);
    }

    #[test]
    fn counts_order_placements_of_every_status_and_no_other_route() {
        assert_eq!(order_counts(&metrics(90, 100, 5)), Some((105, 95)));
        assert_eq!(order_counts("tote_orders_created_total 3\n"), None);
    }

    #[test]
    fn the_slow_orders_of_a_window_are_the_difference_of_two_readings() {
        let before = metrics(90, 100, 0);
        let after = metrics(1090, 1200, 0);
        let window = |answered, over| Some(InApp { answered, over });
        assert_eq!(in_app_between(&before, &after), window(1100, 100));
        // No placement before the window: everything after it is the window's.
        assert_eq!(in_app_between("", &after), window(1200, 110));
        assert_eq!(in_app_between(&before, "garbage"), None);
    }
}
