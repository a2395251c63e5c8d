//! Renders every scenario's numbers as Markdown (`docs/BENCHMARKS.md`).

use crate::contention::ContentionResult;
use crate::load::{self, LoadResult};
use crate::machine::Machine;
use crate::orders::Drain;
use crate::pgbench::PgbenchResult;
use crate::scale::ScaleResult;
use crate::startup::StartupResult;
use crate::tail;
use std::fmt::Write;

/// A scenario's outcome: not run, failed (with why), or its numbers.
pub type Outcome<T> = Option<Result<T, String>>;

pub struct CeilingRow {
    /// Which round of Tote-then-pgbench pairs this is (from 1).
    pub round: usize,
    pub clients: usize,
    pub tote: Result<LoadResult, String>,
    /// How far behind the event consumers were when Tote's run ended.
    pub drain: Result<Drain, String>,
    pub pgbench: Result<PgbenchResult, String>,
}

/// One paced run at the headline client count.
pub struct PacedRun {
    pub load: LoadResult,
    pub drain: Drain,
}

/// The paced runs: at [`RATIO_TARGET`] × pgbench's rate (the target), at [`BUSY_SHARE`] of
/// Tote's own closed-loop maximum (how hard it can be driven), and at half of it (an ordinary
/// busy day).
#[derive(Default)]
pub struct Paced {
    pub target: Outcome<PacedRun>,
    pub busy_own: Outcome<PacedRun>,
    pub half_own: Outcome<PacedRun>,
    /// pgbench paced at the share of its own maximum that the target run was of Tote's, with
    /// that share.
    pub pgbench_same_share: Outcome<(f64, PgbenchResult)>,
}

impl Paced {
    /// Every paced run, each named by its rate.
    pub fn runs(&self) -> [(String, &Outcome<PacedRun>); 3] {
        [
            ("target".to_owned(), &self.target),
            (
                format!("{:.0} % of Tote's maximum", 100.0 * BUSY_SHARE),
                &self.busy_own,
            ),
            ("half of Tote's maximum".to_owned(), &self.half_own),
        ]
    }
}

/// The share of Tote's own maximum of the "busy" paced run: a queue's tail grows steeply past
/// it, so it shows whether a missed latency target is a queue or a stall.
pub const BUSY_SHARE: f64 = 0.8;

pub struct Report {
    pub machine: Machine,
    pub command: String,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub pgbench_scale: u32,
    /// Rounds of Tote-then-pgbench pairs at each client count.
    pub rounds: usize,
    /// SKUs in the order-placement catalogue.
    pub skus: usize,
    /// The app's database pool in the placement runs, in words.
    pub pool: String,
    /// The client count the headline and the paced runs are at ([`HEADLINE_CLIENTS`] when it
    /// was measured; the smoke run's only count otherwise).
    pub headline_clients: usize,
    pub ceiling: Outcome<Vec<CeilingRow>>,
    pub paced: Paced,
    pub contention: Outcome<ContentionResult>,
    pub scale: Outcome<ScaleResult>,
    pub sqlite: Outcome<LoadResult>,
    pub startup: Outcome<StartupResult>,
    pub picking: Outcome<crate::picking::PickingResult>,
}

/// The targets the issue set.
pub const RATIO_TARGET: f64 = 0.5;
pub const P99_TARGET_MS: f64 = 25.0;
pub const SCALE_P95_TARGET_MS: f64 = 10.0;
pub const HEADLINE_CLIENTS: usize = 64;

/// The client count the headline reads: [`HEADLINE_CLIENTS`] when it is among `clients`, else
/// the largest of them (a short smoke run measures only a few clients but still paces them).
pub fn headline_clients(clients: &[usize]) -> usize {
    if clients.contains(&HEADLINE_CLIENTS) {
        HEADLINE_CLIENTS
    } else {
        clients.iter().copied().max().unwrap_or(HEADLINE_CLIENTS)
    }
}

/// Each round at `clients` in which both Tote and pgbench produced numbers.
fn rounds_at(rows: &[CeilingRow], clients: usize) -> Vec<(&LoadResult, &PgbenchResult)> {
    rows.iter()
        .filter(|r| r.clients == clients)
        .filter_map(|r| match (&r.tote, &r.pgbench) {
            (Ok(t), Ok(p)) if p.tps > 0.0 => Some((t, p)),
            _ => None,
        })
        .collect()
}

fn rate_ratio((t, p): &(&LoadResult, &PgbenchResult)) -> f64 {
    t.throughput / p.tps
}

/// The middle item by `key` (the lower of the two middle ones for an even count).
fn median_by<T: Copy>(mut items: Vec<T>, key: impl Fn(&T) -> f64) -> Option<T> {
    items.sort_by(|a, b| key(a).total_cmp(&key(b)));
    items.get(items.len().saturating_sub(1) / 2).copied()
}

/// The round at `clients` whose Tote ÷ pgbench ratio is the median of the rounds.
pub fn median_round(rows: &[CeilingRow], clients: usize) -> Option<(&LoadResult, &PgbenchResult)> {
    median_by(rounds_at(rows, clients), rate_ratio)
}

/// Whether the tables must name each row's round.
fn several_rounds(rows: &[CeilingRow]) -> bool {
    rows.iter().any(|r| r.round > 1)
}

/// How a row is named in the tables: its client count, and its round when there are several.
fn row_label(rows: &[CeilingRow], r: &CeilingRow) -> String {
    if several_rounds(rows) {
        format!("{} (round {})", r.clients, r.round)
    } else {
        r.clients.to_string()
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "**met**" } else { "**not met**" }
}

fn failed<T>(out: &mut String, outcome: &Outcome<T>) -> Option<()> {
    match outcome {
        None => {
            let _ = writeln!(out, "_Not run._\n");
            None
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "**Failed:** {e}\n");
            None
        }
        Some(Ok(_)) => Some(()),
    }
}

impl Report {
    pub fn render(&self) -> String {
        let mut o = String::new();
        self.header(&mut o);
        self.headline(&mut o);
        self.ceiling(&mut o);
        self.contention(&mut o);
        self.scale(&mut o);
        self.sqlite(&mut o);
        self.startup(&mut o);
        self.picking(&mut o);
        self.footer(&mut o);
        o
    }

    fn header(&self, o: &mut String) {
        let m = &self.machine;
        let _ = writeln!(
            o,
            "# Benchmarks\n\n\
             Generated by `{}` (`make bench` runs it); do not edit by hand — re-run it.\n\n\
             | | |\n|---|---|\n\
             | Date | {} |\n| Commit | `{}` |\n| CPU | {} |\n| Cores | {} |\n| RAM | {:.1} GiB |\n\
             | Kernel | {} |\n| PostgreSQL | {} ({}) |\n\
             | Load average (1/5/15 min) | {} at start, {} when this file was written |\n\
             | Load duration | {:.0} s measured per run, after {:.0} s warm-up; {} round(s) of \
             placement and pgbench |\n",
            self.command,
            m.date_utc,
            m.commit,
            m.cpu_model,
            m.cores,
            m.ram_gib,
            m.kernel,
            m.postgres,
            m.postgres_settings,
            m.load_at_start,
            crate::machine::load_average(),
            self.duration_s,
            self.warmup_s,
            self.rounds,
        );
        let _ = writeln!(
            o,
            "Everything runs on this one machine: PostgreSQL, the Tote app, the load generator and \
             pgbench share its {} cores, so every number here includes the client's own CPU cost; \
             on a shared machine the load-average row shows other work running at the same time.\n",
            m.cores
        );
    }

    fn headline(&self, o: &mut String) {
        let n = self.headline_clients;
        let _ = writeln!(o, "## Headline\n");
        let rows = match &self.ceiling {
            Some(Ok(rows)) => rows.as_slice(),
            _ => &[],
        };
        let Some((t, p)) = median_round(rows, n) else {
            let _ = writeln!(o, "No result at {n} clients (see below).\n");
            return;
        };
        let rounds = rounds_at(rows, n);
        let ratio = t.throughput / p.tps;
        let mut each: Vec<f64> = rounds.iter().map(rate_ratio).collect();
        each.sort_by(f64::total_cmp);
        let each = each
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            o,
            "- **Throughput:** at {n} clients, as fast as they can go, in the median \
             of {} rounds Tote placed **{:.0} orders/s** over HTTP against pgbench's **{:.0} TPC-B \
             tps** on the same server: a ratio of **{ratio:.2}** (each round: {each}; target ≥ \
             {RATIO_TARGET}: {}).",
            rounds.len(),
            t.throughput,
            p.tps,
            met(ratio >= RATIO_TARGET),
        );
        let cpu = median_by(
            rounds
                .iter()
                .filter_map(|(t, p)| Some(p.cpu_ms_per_transaction? / t.cpu_ms_per_request?))
                .collect(),
            |r| *r,
        );
        if let (Some(tote_cpu), Some(pg_cpu), Some(cpu)) =
            (t.cpu_ms_per_request, p.cpu_ms_per_transaction, cpu)
        {
            let _ = writeln!(
                o,
                "- **CPU per unit of work** (the same comparison, steadier on a busy machine): in \
                 that round an order cost the machine {tote_cpu:.2} ms of CPU and a TPC-B \
                 transaction {pg_cpu:.2} ms; the median of the rounds' ratios is **{cpu:.2}**.",
            );
        }
        match &self.paced.target {
            Some(Ok(paced)) => {
                let offered = paced.load.offered.unwrap_or_default();
                let kept_up = kept_up(paced.load.throughput, offered, paced.load.error_count);
                let _ = writeln!(
                    o,
                    "- **Latency at that ratio:** {n} clients offering {RATIO_TARGET} × \
                     pgbench's rate ({offered:.0} orders/s, {:.0} % of what Tote answered flat \
                     out) got **{:.0} orders/s** answered ({}) with p99 **{:.1} ms**, measured \
                     from each order's scheduled time (target ≤ {P99_TARGET_MS} ms: {}).",
                    100.0 * offered / t.throughput,
                    paced.load.throughput,
                    pace_word(kept_up),
                    paced.load.latency.p99_ms,
                    met(kept_up && paced.load.latency.p99_ms <= P99_TARGET_MS),
                );
                if let Some(split) = &paced.load.tail {
                    let _ = writeln!(o, "{}", tail::headline(split));
                }
            }
            Some(Err(e)) => {
                let _ = writeln!(o, "- **Latency at that ratio:** the paced run failed: {e}");
            }
            None => {
                let _ = writeln!(o, "- **Latency at that ratio:** not run.");
            }
        }
        for (share, run) in [
            (format!("{:.0} %", 100.0 * BUSY_SHARE), &self.paced.busy_own),
            ("half".to_owned(), &self.paced.half_own),
        ] {
            if let Some(Ok(run)) = run {
                let _ = writeln!(
                    o,
                    "- **At {share} of its own maximum** ({:.0} orders/s offered from {n} \
                     clients), Tote answered {:.0} orders/s with p50 {:.1} ms, p99 **{:.1} ms**.",
                    run.load.offered.unwrap_or_default(),
                    run.load.throughput,
                    run.load.latency.p50_ms,
                    run.load.latency.p99_ms,
                );
            }
        }
        if let Some(Ok((share, pg))) = &self.paced.pgbench_same_share {
            let offered = pg.offered.unwrap_or_default();
            let kept_up = kept_up(pg.tps, offered, pg.failed);
            let _ = writeln!(
                o,
                "- **The database alone at that load:** pgbench paced at the same {:.0} % of its \
                 own maximum ({offered:.0} tps offered from {n} clients) answered {:.0} tps ({}) \
                 with p99 **{:.1} ms**, timed the same way: {}.",
                100.0 * share,
                pg.tps,
                pace_word(kept_up),
                pg.latency.p99_ms,
                if kept_up && pg.latency.p99_ms <= P99_TARGET_MS {
                    "PostgreSQL's own benchmark meets the p99 target at that load here, so the \
                     gap to it is Tote's"
                } else {
                    "PostgreSQL's own benchmark misses the p99 target at that load here too"
                },
            );
        }
        let _ = writeln!(
            o,
            "- Flat out, {n} closed-loop clients wait their turn: p99 **{:.1} ms** \
             (pgbench's own is {:.1} ms). By Little's law a closed loop of N clients at X/s has a \
             mean latency of N / X, so a p99 target is only meaningful at a set rate, as above.\n",
            t.latency.p99_ms, p.latency.p99_ms,
        );
    }

    /// The paced runs that produced numbers, each with what its rate was.
    fn paced_runs(&self) -> impl Iterator<Item = (String, &PacedRun)> {
        self.paced
            .runs()
            .into_iter()
            .filter_map(|(what, run)| match run {
                Some(Ok(run)) => Some((what, run)),
                _ => None,
            })
    }

    fn ceiling(&self, o: &mut String) {
        let n = self.headline_clients;
        let _ = writeln!(
            o,
            "## 1. Order placement over HTTP on PostgreSQL\n\n\
             The real app (`Application::build` on 127.0.0.1:0, {pool}, request \
             logging off) on a fresh PostgreSQL database that it owns and connects to as a role \
             that is neither superuser nor `BYPASSRLS`, so the forced row-level security binds it \
             as in production; one tenant, {} SKUs with large stock. \
             A closed loop of N clients, each on its own keep-alive HTTP/1.1 connection (as each \
             pgbench client has its own database connection), POSTing `/api/v1/orders` with 1–3 \
             lines over random SKUs as soon as its previous order is answered. Any answer but 201 \
             is an error. \
             The store first gets a history of orders (16 clients for the warm-up time, \
             unmeasured), so no plan is made for an empty `orders` table. \
             Before each run the benchmark runs `VACUUM (ANALYZE)` on the database, as pgbench \
             does on its own tables before each of its runs, then `CHECKPOINT` (before each \
             pgbench run too), so that no run works under a checkpoint the runs before it set \
             going; it starts the app afresh, and stops it before pgbench runs.\n",
            self.skus,
            pool = self.pool,
        );
        if failed(o, &self.ceiling).is_none() {
            return;
        }
        let Some(Ok(rows)) = &self.ceiling else {
            return;
        };
        let _ = writeln!(
            o,
            "| Clients | Orders/s | p50 ms | p95 ms | p99 ms | max ms | Errors | Order statuses (whole run) |\n\
             |---:|---:|---:|---:|---:|---:|---:|---|"
        );
        for r in rows {
            match &r.tote {
                Ok(t) => load_row(o, &row_label(rows, r), t),
                Err(e) => {
                    let _ = writeln!(o, "| {} | failed: {e} | | | | | | |", row_label(rows, r));
                }
            }
        }
        for (what, paced) in self.paced_runs() {
            let label = format!(
                "{} paced at {:.0}/s ({what})",
                paced.load.clients,
                paced.load.offered.unwrap_or_default()
            );
            load_row(o, &label, &paced.load);
        }
        let _ = writeln!(
            o,
            "\nThe paced rows offer a fixed rate from {n} clients on one shared \
             schedule: {RATIO_TARGET} × pgbench's (the target), {busy:.0} % of Tote's own maximum \
             (how hard it can be driven) and half of it (an ordinary busy day). Their latencies \
             run from each order's scheduled time, so a stall counts in full. Before each, {n} closed-loop clients place orders \
             for the warm-up time, unmeasured, and the consumers catch up, so the app's \
             connections are open and their plans made again after the vacuum.\n\n\
             The event consumers (analytics, webhook fan-out, notifications, backorder fills) run in \
             the app, as in `make run`, and share the machine. After each run the benchmark waits \
             until they have handled every event before pgbench starts:\n\n\
             | Run | Events not yet handled when the load stopped | Caught up in s |\n\
             |---|---:|---:|",
            busy = 100.0 * BUSY_SHARE,
        );
        let drains = rows
            .iter()
            .map(|r| {
                let round = if several_rounds(rows) {
                    format!(", round {}", r.round)
                } else {
                    String::new()
                };
                (format!("{} clients{round}", r.clients), r.drain.clone())
            })
            .chain(self.paced_runs().map(|(what, p)| {
                (
                    format!("{} clients, paced ({what})", p.load.clients),
                    Ok(p.drain.clone()),
                )
            }));
        for (label, drain) in drains {
            match drain {
                Ok(d) => {
                    let _ = writeln!(o, "| {label} | {} | {:.1} |", d.backlog, d.secs);
                }
                Err(e) => {
                    let _ = writeln!(o, "| {label} | failed: {e} | |");
                }
            }
        }
        let splits: Vec<_> = self
            .paced_runs()
            .filter_map(|(what, p)| Some((what, p.load.tail.as_ref()?, &p.load)))
            .collect();
        if !splits.is_empty() {
            let _ = writeln!(
                o,
                "\nWhere the paced runs' slow orders spent their time. The clients time an order \
                 from its scheduled time to its answer; Tote's own `/metrics` histogram \
                 (`tote_http_requests_duration_seconds`), read at both ends of the window, times \
                 it from its arrival in the app to the response. An order over the target at the \
                 clients but not inside the app lost its time to the load generator, loopback \
                 TCP or waiting for a core. One thread releases the shared schedule on the OS \
                 timer; send lateness is how long after its scheduled time each request left. The CPU \
                 column is the machine's busy CPU per order over the window, as in section 2. It \
                 rises when this shared host slows down, and at lower rates, where fewer orders \
                 share each wake-up; compared between runs at similar rates, it tells a slow \
                 phase of the machine from a slow run. Host steal is the time the hypervisor \
                 gave to other guests while this machine's cores were ready to run, as a share \
                 of all its cores' time over the window (`/proc/stat`).\n\n{}",
                tail::table_head()
            );
            for (what, split, load) in splits {
                let row = tail::row(&what, split, load.cpu_ms_per_request, load.steal_percent);
                let _ = writeln!(o, "{row}");
            }
        }
        let _ = writeln!(
            o,
            "\n## 2. The ceiling: pgbench in the same run\n\n\
             `pgbench -i -s {}` (by default the largest client count, as pgbench's documentation \
             asks: with fewer branch rows than clients, TPC-B's transactions mostly wait on \
             each other's branch update) into a scratch database, then `pgbench -b tpcb-like \
             -c N -j 2 -T {:.0}` \
             right after Tote's run at the same N (per-transaction log for percentiles), in {} \
             rounds of every N, one after the other; the headline takes the median round. \
             A TPC-B transaction is 3 UPDATEs, 1 SELECT and 1 INSERT; a Tote order is \
             authentication, 1–3 conditional UPDATEs, 4+ INSERTs and JSON over HTTP.\n\n\
             The CPU columns are the whole machine's busy CPU time over each measured window \
             (from `/proc/stat`: PostgreSQL, the app, the load generator and the kernel) divided \
             by the work done, which a noisy machine moves far less than the rates. The paced \
             row, when there is one, runs pgbench with `-R` right after Tote's paced target \
             run, at the share of its own maximum that Tote's target run was of Tote's, each \
             transaction timed from its scheduled start.\n\n\
             | Clients | pgbench tps | pgbench transactions (failed) | pgbench avg / p50 / p99 ms | Tote orders/s | Tote ÷ pgbench | Tote p99 ms | CPU ms per order | CPU ms per pgbench transaction |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            self.pgbench_scale, self.duration_s, self.rounds
        );
        for r in rows {
            match (&r.tote, &r.pgbench) {
                (Ok(t), Ok(p)) => {
                    let _ = writeln!(
                        o,
                        "| {} | {} | {:.0} | **{:.2}** | {:.2} | {} | {} |",
                        row_label(rows, r),
                        pgbench_cells(p),
                        t.throughput,
                        t.throughput / p.tps,
                        t.latency.p99_ms,
                        ms(t.cpu_ms_per_request),
                        ms(p.cpu_ms_per_transaction),
                    );
                }
                (_, Err(e)) | (Err(e), _) => {
                    let _ = writeln!(o, "| {} | failed: {e} | | | | | | | |", row_label(rows, r));
                }
            }
        }
        match &self.paced.pgbench_same_share {
            Some(Ok((share, p))) => {
                let _ = writeln!(
                    o,
                    "| {} paced at {:.0} tps ({:.0} % of its maximum, as Tote's target run) | {} \
                     | | | | | {} |",
                    self.headline_clients,
                    p.offered.unwrap_or_default(),
                    100.0 * share,
                    pgbench_cells(p),
                    ms(p.cpu_ms_per_transaction),
                );
            }
            Some(Err(e)) => {
                let _ = writeln!(o, "| paced | failed: {e} | | | | | | | |");
            }
            None => {}
        }
        let _ = writeln!(o);
    }

    fn contention(&self, o: &mut String) {
        let _ = writeln!(o, "## 3. Contention: the same few SKUs, limited stock\n");
        if failed(o, &self.contention).is_none() {
            return;
        }
        let Some(Ok(c)) = &self.contention else {
            return;
        };
        let _ = writeln!(
            o,
            "{} clients each order 1 unit of one of {} SKUs ({} units each) for {:.0} s, no warm-up. \
             Then the database is read directly: for every SKU, `reserved ≤ on_hand`, `reserved` = Σ \
             `allocated` of its order lines = Σ `reserved_delta` of its ledger, and `on_hand` = Σ \
             `on_hand_delta`.\n\n\
             | Orders/s | p50 ms | p99 ms | Allocated | Backordered | Errors | Replies = database | No oversell |\n\
             |---:|---:|---:|---:|---:|---:|---|---|\n\
             | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} | {} |\n",
            c.load.clients,
            c.skus.len(),
            c.stock_per_sku,
            c.load.window_s,
            c.load.throughput,
            c.load.latency.p50_ms,
            c.load.latency.p99_ms,
            c.allocated_orders,
            c.backordered_orders,
            c.load
                .totals
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "allocated" | "backordered"))
                .map(|(_, v)| v)
                .sum::<u64>(),
            if c.replies_match_db { "yes" } else { "**NO**" },
            if c.no_oversell() {
                "**proven**"
            } else {
                "**VIOLATED**"
            },
        );
        let _ = writeln!(
            o,
            "| SKU | on_hand | reserved | Σ allocated (lines) | ledger Σ on_hand | ledger Σ reserved | holds |\n\
             |---|---:|---:|---:|---:|---:|---|"
        );
        for s in &c.skus {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                s.sku,
                s.on_hand,
                s.reserved,
                s.allocated_in_orders,
                s.ledger_on_hand,
                s.ledger_reserved,
                if s.holds() { "yes" } else { "**NO**" }
            );
        }
        let _ = writeln!(o);
    }

    fn scale(&self, o: &mut String) {
        let _ = writeln!(o, "## 4. Scale: reads on a large tenant\n");
        if failed(o, &self.scale).is_none() {
            return;
        }
        let Some(Ok(s)) = &self.scale else { return };
        let seed = match s.seed_secs {
            Some(secs) => format!(
                "seeded in this run in {secs:.0} s ({:.1} min) with `COPY … FROM STDIN`",
                secs / 60.0
            ),
            None => format!(
                "reused from an earlier run ({}; `--reseed` rebuilds it)",
                s.earlier_seed
                    .as_deref()
                    .unwrap_or("no note of its seed time")
            ),
        };
        let _ = writeln!(
            o,
            "One tenant with {} products and stock levels and {} orders (1–3 lines each; 72% allocated, \
             8% partially allocated, 10% backordered, 10% cancelled; half of them, the shop's, with a \
             customer e-mail, about two orders per customer) in database `{}`, {seed}. \
             Requests are sent one at a time (latency, not throughput) to the in-process app; \
             paging starts at random orders and follows `next_cursor` 5 pages deep; the searches pick a \
             random SKU, a random customer's e-mail, and one random day of the 90-day history.\n\n\
             | Request | n | p50 ms | p95 ms | p99 ms | max ms | Errors | p95 ≤ {SCALE_P95_TARGET_MS} ms |\n\
             |---|---:|---:|---:|---:|---:|---:|---|",
            s.skus, s.orders, s.database
        );
        for r in &s.reads {
            let l = &r.latency;
            let target = if r.name.contains("walk") {
                "n/a (5 requests)".to_owned()
            } else {
                met(l.p95_ms <= SCALE_P95_TARGET_MS).to_owned()
            };
            let _ = writeln!(
                o,
                "| `{}` | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
                r.name, l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms, r.errors, target
            );
        }
        let _ = writeln!(o);
    }

    fn sqlite(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "## 5. Embedded default: order placement on SQLite\n\n\
             Scenario 1 on a temporary SQLite file (WAL, one connection — one writer).\n"
        );
        if failed(o, &self.sqlite).is_none() {
            return;
        }
        let Some(Ok(t)) = &self.sqlite else { return };
        let _ = writeln!(
            o,
            "| Clients | Orders/s | p50 ms | p95 ms | p99 ms | max ms | Errors | Order statuses (whole run) |\n\
             |---:|---:|---:|---:|---:|---:|---:|---|"
        );
        load_row(o, &t.clients.to_string(), t);
        let _ = writeln!(o);
    }

    fn picking(&self, o: &mut String) {
        let _ = writeln!(o, "## 7. Warehouse: one batch pick list\n");
        if failed(o, &self.picking).is_none() {
            return;
        }
        let Some(Ok(p)) = &self.picking else { return };
        let l = &p.latency;
        let _ = writeln!(
            o,
            "`warehouse::plan_batch` in memory: {} allocated orders of {} lines over {} SKUs in {} bins \
             (two per SKU, one preferred), planned into pick lines in walk order with units split \
             across bins; {} runs. The bin-stock read that feeds it is one indexed query.\n\n\
             | Orders | Pick lines | p50 ms | p95 ms | max ms | ≤ {:.0} ms |\n\
             |---:|---:|---:|---:|---:|---|\n\
             | {} | {} | {:.2} | {:.2} | {:.2} | {} |\n",
            p.orders,
            p.lines_per_order,
            p.skus,
            p.bins,
            p.runs,
            crate::picking::TARGET_MS,
            p.orders,
            p.pick_lines,
            l.p50_ms,
            l.p95_ms,
            l.max_ms,
            met(l.p95_ms <= crate::picking::TARGET_MS),
        );
    }

    fn startup(&self, o: &mut String) {
        let _ = writeln!(o, "## 6. Start-up and memory of the release binary\n");
        if failed(o, &self.startup).is_none() {
            return;
        }
        let Some(Ok(s)) = &self.startup else { return };
        let mut sorted = s.starts_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        let mib = |kib: u64| kib as f64 / 1024.0;
        let _ = writeln!(
            o,
            "`{} serve` spawned on a fresh SQLite file (migrations included), logs to /dev/null, \
             timed until `GET /health` answers 200; {} fresh start(s). Memory from `/proc/<pid>/status`: \
             VmRSS 1 s after start, then after {:.0} s of order placement from {} clients \
             ({:.0} orders/s, p99 {:.1} ms, {} answers other than 201), VmRSS and VmHWM (peak).\n\n\
             | Start-up median | min | max | VmRSS idle | VmRSS after load | VmHWM (peak) |\n\
             |---:|---:|---:|---:|---:|---:|\n\
             | {median:.0} ms | {:.0} ms | {:.0} ms | {:.1} MiB | {:.1} MiB | {:.1} MiB |\n",
            s.binary,
            s.starts_ms.len(),
            s.load.window_s,
            s.load.clients,
            s.load.throughput,
            s.load.latency.p99_ms,
            s.load.error_count,
            sorted[0],
            sorted[sorted.len() - 1],
            mib(s.rss_idle_kib),
            mib(s.rss_after_load_kib),
            mib(s.hwm_after_load_kib),
        );
    }

    fn footer(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "## Reproduce\n\n\
             ```sh\n\
             make bench                                   # everything; rewrites this file\n\
             cargo run --release -p bench -- all --help   # durations, client counts, sizes\n\
             cargo run --release -p bench -- seed-scale --orders 1000000 --skus 100000 --reseed\n\
             make bench-smoke                             # every scenario for ~1 s, tiny sizes\n\
             ```"
        );
    }
}

fn load_row(o: &mut String, label: &str, t: &LoadResult) {
    let errors = if t.error_count == 0 {
        "0".to_owned()
    } else {
        format!("{} ({})", t.error_count, load::describe(&t.errors))
    };
    let _ = writeln!(
        o,
        "| {label} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {errors} | {} |",
        t.throughput,
        t.latency.p50_ms,
        t.latency.p95_ms,
        t.latency.p99_ms,
        t.latency.max_ms,
        load::describe(&t.totals)
    );
}

/// A paced run kept up when it answered (nearly) all it was offered, without errors.
fn kept_up(answered: f64, offered: f64, errors: u64) -> bool {
    answered >= 0.98 * offered && errors == 0
}

fn pace_word(kept_up: bool) -> &'static str {
    if kept_up {
        "kept up"
    } else {
        "**fell behind**"
    }
}

/// pgbench's own columns of the ceiling table: tps, transactions (failed), avg / p50 / p99.
fn pgbench_cells(p: &PgbenchResult) -> String {
    format!(
        "{:.0} | {} ({}) | {:.2} / {:.2} / {:.2}",
        p.tps, p.transactions, p.failed, p.latency_avg_ms, p.latency.p50_ms, p.latency.p99_ms
    )
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_reads_64_clients_when_they_were_measured_else_the_most_measured() {
        assert_eq!(headline_clients(&[16, 64]), 64);
        assert_eq!(headline_clients(&[64, 128]), 64);
        assert_eq!(headline_clients(&[4]), 4);
        assert_eq!(headline_clients(&[8, 32]), 32);
        assert_eq!(headline_clients(&[]), HEADLINE_CLIENTS);
    }
}
