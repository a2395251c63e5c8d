//! Prometheus metrics at `GET /metrics`: HTTP latency by route and status (actix-web-prom), and
//! Tote's own: orders placed, reservations refused, outbox backlog, database pool.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{IntCounter, IntGauge, Opts, Registry};
use sql::SqlStore;
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Clone)]
pub struct Metrics {
    pub http: PrometheusMetrics,
    pub orders_created: IntCounter,
    pub reservations_refused: IntCounter,
    outbox_pending: IntGauge,
    outbox_oldest_age_seconds: IntGauge,
    db_pool_size: IntGauge,
    db_pool_idle: IntGauge,
}

fn counter(registry: &Registry, name: &str, help: &str) -> Result<IntCounter, prometheus::Error> {
    let c = IntCounter::with_opts(Opts::new(name, help).namespace("tote"))?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
    let g = IntGauge::with_opts(Opts::new(name, help).namespace("tote"))?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

impl Metrics {
    /// A registry of its own per application (tests run several in one process).
    pub fn new() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let registry = Registry::new();
        let metrics = Self {
            orders_created: counter(
                &registry,
                "orders_created_total",
                "Orders placed (new, not replays)",
            )?,
            reservations_refused: counter(
                &registry,
                "reservations_refused_total",
                "Orders refused for lack of stock (allow_backorder false)",
            )?,
            outbox_pending: gauge(
                &registry,
                "outbox_pending",
                "Events waiting to be published",
            )?,
            outbox_oldest_age_seconds: gauge(
                &registry,
                "outbox_oldest_pending_age_seconds",
                "Age of the oldest unpublished event (0 when none)",
            )?,
            db_pool_size: gauge(
                &registry,
                "db_pool_connections",
                "Open database connections",
            )?,
            db_pool_idle: gauge(
                &registry,
                "db_pool_idle_connections",
                "Idle database connections",
            )?,
            http: PrometheusMetricsBuilder::new("tote")
                .endpoint("/metrics")
                .registry(registry)
                // Unknown paths share one label, so scanners cannot blow up cardinality.
                .mask_unmatched_patterns("UNMATCHED")
                .build()?,
        };
        Ok(metrics)
    }

    /// Refreshes the gauges that are read from the database, every `every`.
    pub fn spawn_sampler(&self, store: SqlStore, every: Duration) -> JoinHandle<()> {
        let metrics = self.clone();
        tokio::spawn(async move {
            loop {
                match store.outbox_backlog().await {
                    Ok((pending, oldest)) => {
                        metrics.outbox_pending.set(pending as i64);
                        metrics.outbox_oldest_age_seconds.set(oldest.unwrap_or(0));
                    }
                    Err(e) => tracing::warn!(error = %e, "metrics: cannot read the outbox backlog"),
                }
                let (size, idle) = store.pool_stats();
                metrics.db_pool_size.set(i64::from(size));
                metrics.db_pool_idle.set(idle as i64);
                tokio::time::sleep(every).await;
            }
        })
    }
}
