//! Prometheus metrics at `GET /metrics` (the API's port, and the worker's metrics listener):
//! HTTP latency by route and status (actix-web-prom), and Tote's own: orders placed,
//! reservations refused, outbox backlog and publish lag, queue depths and dead letters,
//! database pool.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use sql::{PoolUse, SqlStore};
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Clone)]
pub struct Metrics {
    pub http: PrometheusMetrics,
    pub orders_created: IntCounter,
    pub reservations_refused: IntCounter,
    outbox_pending: IntGauge,
    outbox_oldest_age_seconds: IntGauge,
    db_pool_open: IntGaugeVec,
    db_pool_idle: IntGaugeVec,
    db_pool_max: IntGaugeVec,
    db_pool_waiting: IntGaugeVec,
    publish_lag: Histogram,
    events_published: IntCounter,
    queue_messages: IntGaugeVec,
    dead_letters: IntGaugeVec,
    webhook_deliveries: IntCounterVec,
}

fn gauge_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    label: &str,
) -> Result<IntGaugeVec, prometheus::Error> {
    let g = IntGaugeVec::new(Opts::new(name, help).namespace("tote"), &[label])?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
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
            db_pool_open: gauge_vec(
                &registry,
                "db_pool_connections",
                "Open database connections, lent out or idle, by pool",
                "pool",
            )?,
            db_pool_idle: gauge_vec(
                &registry,
                "db_pool_idle_connections",
                "Idle database connections, by pool",
                "pool",
            )?,
            db_pool_max: gauge_vec(
                &registry,
                "db_pool_max_connections",
                "The most connections a pool may open",
                "pool",
            )?,
            db_pool_waiting: gauge_vec(
                &registry,
                "db_pool_waiting",
                "Borrowers waiting for a connection, by pool (the transactions' pools)",
                "pool",
            )?,
            publish_lag: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "outbox_publish_lag_seconds",
                        "From an event's commit to the broker's confirmation",
                    )
                    .namespace("tote")
                    .buckets(vec![
                        0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                    ]),
                )?;
                registry.register(Box::new(h.clone()))?;
                h
            },
            events_published: counter(
                &registry,
                "events_published_total",
                "Events the broker confirmed (or in-process consumers took)",
            )?,
            queue_messages: gauge_vec(
                &registry,
                "queue_messages",
                "Messages waiting in a RabbitMQ queue (consumer queues and their DLQs)",
                "queue",
            )?,
            dead_letters: gauge_vec(
                &registry,
                "dead_letters",
                "Events a consumer gave up on: its RabbitMQ DLQ plus in-process dead letters",
                "consumer",
            )?,
            webhook_deliveries: {
                let c = IntCounterVec::new(
                    Opts::new(
                        "webhook_deliveries_total",
                        "Webhook delivery attempts by outcome: delivered, failed (will retry), \
                         dead (gave up), endpoint_disabled",
                    )
                    .namespace("tote"),
                    &["outcome"],
                )?;
                registry.register(Box::new(c.clone()))?;
                c
            },
            http: PrometheusMetricsBuilder::new("tote")
                .endpoint("/metrics")
                .registry(registry)
                // Unknown paths share one label, so scanners cannot blow up cardinality.
                .mask_unmatched_patterns("UNMATCHED")
                .build()?,
        };
        Ok(metrics)
    }

    /// Counts one webhook delivery attempt's outcome.
    pub fn webhook_delivery(&self, outcome: &str) {
        self.webhook_deliveries.with_label_values(&[outcome]).inc();
    }

    /// Counts a relay round's published events and their lag.
    pub fn observe_publish(&self, lag_seconds: &[f64]) {
        self.events_published.inc_by(lag_seconds.len() as u64);
        for lag in lag_seconds {
            self.publish_lag.observe(*lag);
        }
    }

    /// Reads queue depths from RabbitMQ and dead letters from both places, every `every`.
    pub fn spawn_broker_sampler(
        &self,
        store: SqlStore,
        amqp_url: Option<String>,
        consumers: Vec<&'static str>,
        every: Duration,
    ) -> JoinHandle<()> {
        let metrics = self.clone();
        tokio::spawn(async move {
            loop {
                metrics
                    .sample_dead_letters(&store, amqp_url.as_deref(), &consumers)
                    .await;
                tokio::time::sleep(every).await;
            }
        })
    }

    async fn sample_dead_letters(
        &self,
        store: &SqlStore,
        amqp_url: Option<&str>,
        consumers: &[&str],
    ) {
        let mut dead: std::collections::HashMap<String, i64> =
            consumers.iter().map(|c| ((*c).to_owned(), 0)).collect();
        match store.dead_letter_counts().await {
            Ok(rows) => {
                for (consumer, n) in rows {
                    *dead.entry(consumer).or_default() += n as i64;
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot count dead letters"),
        }
        if let Some(url) = amqp_url {
            match rabbitmq::queue_depths(url, consumers).await {
                Ok(depths) => {
                    for d in depths {
                        let queue = rabbitmq::topology::queue_name(&d.consumer);
                        let dlq = rabbitmq::topology::dead_letter_queue_name(&d.consumer);
                        self.queue_messages
                            .with_label_values(&[queue.as_str()])
                            .set(i64::from(d.ready.unwrap_or(0)));
                        self.queue_messages
                            .with_label_values(&[dlq.as_str()])
                            .set(i64::from(d.dead.unwrap_or(0)));
                        *dead.entry(d.consumer).or_default() += i64::from(d.dead.unwrap_or(0));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "metrics: cannot read RabbitMQ queue depths"),
            }
        }
        for (consumer, n) in dead {
            self.dead_letters
                .with_label_values(&[consumer.as_str()])
                .set(n);
        }
    }

    /// One pool's gauges. `reads` is sea-orm's pool (reads outside a transaction, and all of
    /// SQLite's work); on PostgreSQL the transactions run on pools of their own: `requests`
    /// (the HTTP workers') and `background` (relay, consumers, pollers).
    fn set_pool(&self, pool: &str, used: PoolUse) {
        let gauge = |g: &IntGaugeVec, v: usize| g.with_label_values(&[pool]).set(v as i64);
        gauge(&self.db_pool_open, used.open);
        gauge(&self.db_pool_idle, used.idle);
        gauge(&self.db_pool_max, used.max);
        if let Some(waiting) = used.waiting {
            gauge(&self.db_pool_waiting, waiting);
        }
    }

    /// Refreshes the gauges that are read from the database, every `every`: the outbox from
    /// `store`, sea-orm's pool (`reads`) from `store`, and each named store's transactions'
    /// pool. Name a store only if its transactions have a pool of their own, or the pool
    /// would be counted twice.
    pub fn spawn_sampler(
        &self,
        store: SqlStore,
        transactions: Vec<(&'static str, SqlStore)>,
        every: Duration,
    ) -> JoinHandle<()> {
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
                metrics.set_pool("reads", store.reads_pool_use());
                for (name, pooled) in &transactions {
                    if let Some(used) = pooled.transactions_pool_use() {
                        metrics.set_pool(name, used);
                    }
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}
