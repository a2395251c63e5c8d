//! The load generator: N clients for a fixed time, every latency into an HDR histogram.
//!
//! Closed loop (the default): each client sends its next request as soon as the previous one
//! is answered, which finds the saturation throughput. Paced (`rate`): the clients share one
//! schedule of `rate` requests a second, and a latency runs from the request's scheduled
//! time, not from when a late client got round to sending it — so a stall is counted in full
//! (no coordinated omission, as in wrk2). `BENCH_TIMELINE=1` prints each run's latencies by
//! quarter second.

use crate::app::Api;
use crate::conn::Connection;
use crate::error::{Context, Result};
use crate::stats::{self, Latency};
use crate::tail::{self, TailSplit};
use hdrhistogram::Histogram;
use hyper::header::HeaderValue;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// The p99 target, µs: a paced answer slower than this counts in [`TailSplit`].
const TARGET_MICROS: u64 = (crate::report::P99_TARGET_MS * 1000.0) as u64;

/// Builds the next request body for one client from its own random stream.
pub type BodyFn = Arc<dyn Fn(&mut StdRng) -> Vec<u8> + Send + Sync>;

pub struct LoadSpec {
    pub clients: usize,
    /// The measured window, after the warm-up.
    pub duration: Duration,
    /// Load runs this long first; requests that complete in it count only in the totals.
    pub warmup: Duration,
    /// Paced: requests a second offered by all clients together. `None`: closed loop.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct LoadResult {
    pub clients: usize,
    /// The measured window (duration minus warm-up), in seconds.
    pub window_s: f64,
    /// 201s completed in the window, per second.
    pub throughput: f64,
    pub latency: Latency,
    /// Non-201 answers and transport failures in the window, by kind.
    pub errors: BTreeMap<String, u64>,
    pub error_count: u64,
    pub ok_count: u64,
    /// Every answer over the whole run: the order `status` of each 201, or the error kind.
    pub totals: BTreeMap<String, u64>,
    /// The paced rate offered, requests a second (`None`: closed loop).
    pub offered: Option<f64>,
    /// Busy CPU of the whole machine per answered request in the window, ms.
    pub cpu_ms_per_request: Option<f64>,
    /// The hypervisor's steal over the window, % of all cores' time (`cpu::steal_percent`).
    pub steal_percent: Option<f64>,
    /// Paced: how many answers were over the target at the client and inside the app.
    pub tail: Option<TailSplit>,
}

struct ClientTally {
    hist: Histogram<u64>,
    late: Histogram<u64>,
    timeline: Vec<(f64, f64)>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    totals: BTreeMap<String, u64>,
}

/// POSTs `body()` to `path` from `spec.clients` clients until the time is up.
pub async fn run(api: &Api, path: &str, spec: &LoadSpec, body: BodyFn) -> Result<LoadResult> {
    let url = api.url(path);
    let auth = HeaderValue::from_str(&format!("Bearer {}", api.key))
        .context(|| "API key is not a valid header".to_owned())?;
    // One connection per client, opened on its first request.
    let connections = (0..spec.clients)
        .map(|_| Connection::new(&url, auth.clone()))
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let end = measure_from + spec.duration;
    let (clients, rate) = (spec.clients, spec.rate);
    let keep_timeline = std::env::var_os("BENCH_TIMELINE").is_some();
    // The machine's CPU over exactly the measured window.
    let cpu_window = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let before = crate::cpu::busy_and_steal_seconds();
        tokio::time::sleep_until(end.into()).await;
        (before, crate::cpu::busy_and_steal_seconds())
    });
    // Paced: Tote's own latency histogram at both ends of the window (`tail`).
    let (metrics_client, metrics_url) = (api.client.clone(), api.url("/metrics"));
    let server_window = tokio::spawn(async move {
        rate?;
        tokio::time::sleep_until(measure_from.into()).await;
        let before = tail::read_metrics(&metrics_client, &metrics_url).await?;
        tokio::time::sleep_until(end.into()).await;
        let after = tail::read_metrics(&metrics_client, &metrics_url).await?;
        Some((before, after))
    });
    // Paced: one thread releases the shared schedule, each slot to its client.
    let mut slots: Vec<Option<UnboundedReceiver<u64>>> = (0..clients).map(|_| None).collect();
    if let Some(rate) = rate {
        let senders = slots
            .iter_mut()
            .map(|slot| {
                let (tx, rx) = unbounded_channel();
                *slot = Some(rx);
                tx
            })
            .collect();
        std::thread::Builder::new()
            .name("bench-pacer".into())
            .spawn(move || pace(start, end, rate, senders))
            .context(|| "starting the pacer thread".to_owned())?;
    }
    let tasks: Vec<_> = slots
        .into_iter()
        .zip(connections)
        .enumerate()
        .map(|(i, (mut schedule, mut connection))| {
            let body = body.clone();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(0x70_7e + i as u64);
                let mut t = ClientTally {
                    hist: stats::histogram(),
                    late: stats::histogram(),
                    timeline: Vec::new(),
                    ok: 0,
                    errors: BTreeMap::new(),
                    totals: BTreeMap::new(),
                };
                while Instant::now() < end {
                    let payload = body(&mut rng);
                    let sent_at = match (&mut schedule, rate) {
                        (Some(schedule), Some(rate)) => {
                            let Some(n) = schedule.recv().await else {
                                break;
                            };
                            let due = slot_time(start, n, rate);
                            if due >= measure_from {
                                stats::record(&mut t.late, Instant::now() - due);
                            }
                            due
                        }
                        _ => Instant::now(),
                    };
                    let outcome = send(&mut connection, payload).await;
                    let done_at = Instant::now();
                    let key = match &outcome {
                        Ok(status) => status.clone(),
                        Err(kind) => kind.clone(),
                    };
                    *t.totals.entry(key).or_default() += 1;
                    if done_at >= measure_from && done_at <= end {
                        stats::record(&mut t.hist, done_at - sent_at);
                        if keep_timeline {
                            t.timeline.push((
                                (done_at - measure_from).as_secs_f64(),
                                (done_at - sent_at).as_secs_f64() * 1000.0,
                            ));
                        }
                        match outcome {
                            Ok(_) => t.ok += 1,
                            Err(kind) => *t.errors.entry(kind).or_default() += 1,
                        }
                    }
                }
                t
            })
        })
        .collect();
    let mut hist = stats::histogram();
    let mut result = LoadResult {
        clients: spec.clients,
        window_s: spec.duration.as_secs_f64(),
        throughput: 0.0,
        latency: Latency::default(),
        errors: BTreeMap::new(),
        error_count: 0,
        ok_count: 0,
        totals: BTreeMap::new(),
        offered: spec.rate,
        cpu_ms_per_request: None,
        steal_percent: None,
        tail: None,
    };
    let mut timeline = Vec::new();
    let mut late = stats::histogram();
    for task in tasks {
        let t = task.await.context(|| "a load client panicked".to_owned())?;
        timeline.extend(t.timeline.iter().copied());
        late.add(&t.late)
            .context(|| "merging histograms".to_owned())?;
        hist.add(&t.hist)
            .context(|| "merging histograms".to_owned())?;
        result.ok_count += t.ok;
        for (k, v) in t.errors {
            result.error_count += v;
            *result.errors.entry(k).or_default() += v;
        }
        for (k, v) in t.totals {
            *result.totals.entry(k).or_default() += v;
        }
    }
    if keep_timeline {
        print_timeline(timeline);
    }
    if rate.is_some() {
        let app = match server_window.await {
            Ok(Some((before, after))) => tail::in_app_between(&before, &after),
            _ => None,
        };
        result.tail = Some(TailSplit {
            answered: hist.len(),
            over_at_client: hist.len() - hist.count_between(0, TARGET_MICROS),
            in_app: app,
            send_lateness: Latency::of(&late),
        });
    }
    result.latency = Latency::of(&hist);
    result.throughput = result.ok_count as f64 / result.window_s;
    if let Ok((before, after)) = cpu_window.await {
        result.cpu_ms_per_request = crate::cpu::ms_per(before.0, after.0, result.ok_count);
        result.steal_percent = crate::cpu::steal_percent(before.1, after.1, result.window_s);
    }
    Ok(result)
}

/// Diagnosis (`BENCH_TIMELINE=1`): the window's latencies by quarter second on stderr, which
/// shows whether a tail is a steady queue or one stall and its backlog.
fn print_timeline(timeline: Vec<(f64, f64)>) {
    let mut quarters: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for (at, ms) in timeline {
        quarters.entry((at * 4.0) as u64).or_default().push(ms);
    }
    for (q, mut v) in quarters {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        eprintln!(
            "t={:5.2} s  n={n:4}  p50 {:7.1} ms  p99 {:7.1} ms  max {:7.1} ms",
            q as f64 / 4.0,
            v[n / 2],
            v[(n * 99 / 100).min(n - 1)],
            v[n - 1]
        );
    }
}

/// When request `n` of a schedule of `rate` a second that began at `start` is due.
fn slot_time(start: Instant, n: u64, rate: f64) -> Instant {
    start + Duration::from_secs_f64(n as f64 / rate)
}

/// The pacer: hands request `n` of the shared schedule to client `n mod N` when it is due,
/// until `end`. It sleeps on the OS timer, precise to tens of microseconds; tokio's timer
/// rounds every sleep up to its next millisecond tick, which made each paced request start
/// about 1 ms after its time, and that counted as Tote's latency. A client still busy with its
/// previous request finds its next slot waiting, and times it from the slot's own due time.
fn pace(start: Instant, end: Instant, rate: f64, clients: Vec<UnboundedSender<u64>>) {
    let count = clients.len() as u64;
    if count == 0 {
        return;
    }
    for n in 0u64.. {
        let due = slot_time(start, n, rate);
        if due >= end {
            break;
        }
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let client = &clients[(n % count) as usize];
        if client.send(n).is_err() {
            break;
        }
    }
}

/// One request: `Ok(order status)` for a 201, `Err(kind)` otherwise.
async fn send(
    connection: &mut Connection,
    payload: Vec<u8>,
) -> std::result::Result<String, String> {
    let answer = connection.post_json(payload).await?;
    if answer.status != 201 {
        return Err(format!("HTTP {}", answer.status));
    }
    Ok(order_status(&answer.body)
        .unwrap_or("(no status)")
        .to_owned())
}

/// The first `"status":"…"` of an order reply: the order's own status (it precedes the lines).
pub fn order_status(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = &text[text.find("\"status\":\"")? + 10..];
    Some(&rest[..rest.find('"')?])
}

/// Status counts as "allocated 123, backordered 4".
pub fn describe(totals: &BTreeMap<String, u64>) -> String {
    totals
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    #[test]
    fn the_pacer_hands_each_slot_to_its_client_in_order_and_not_early() {
        let (senders, mut receivers): (Vec<_>, Vec<_>) =
            (0..3).map(|_| super::unbounded_channel()).unzip();
        let start = Instant::now();
        // 1,000 a second for 20 ms: slots 0..=19, the last due 19 ms after the start.
        super::pace(start, start + Duration::from_millis(20), 1000.0, senders);
        assert!(start.elapsed() >= Duration::from_millis(19));
        for (i, rx) in receivers.iter_mut().enumerate() {
            let mut got = Vec::new();
            while let Ok(n) = rx.try_recv() {
                got.push(n);
            }
            let want: Vec<u64> = (0..20).filter(|n| n % 3 == i as u64).collect();
            assert_eq!(got, want, "client {i}");
            assert!(
                rx.is_closed(),
                "the pacer closes every schedule when it ends"
            );
        }
    }

    #[test]
    fn finds_the_order_status() {
        let body = br#"{"id":"x","status":"backordered","lines":[{"status":"no"}]}"#;
        assert_eq!(super::order_status(body), Some("backordered"));
        assert_eq!(super::order_status(b"{}"), None);
    }
}
