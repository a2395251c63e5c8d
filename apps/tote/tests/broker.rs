//! The event pipeline against the real RabbitMQ (127.0.0.1:5672, or `TEST_AMQP_URL`) and
//! PostgreSQL: relay → exchange → quorum queue → consumer → inbox.

use async_trait::async_trait;
use chrono::Utc;
use identity::ports::TenantRepository;
use identity::{ApiKey, NewTenant};
use kernel::{EventEnvelope, EventHandler, EventPublisher, HandlerError, TenantId};
use lapin::options::{BasicGetOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};
use rabbitmq::dead_letters;
use rabbitmq::topology::{dead_letter_queue_name, queue_name};
use rabbitmq::{ConsumerOptions, RabbitPublisher, queue_spec, run_consumer};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::TestDb;
use tote::consumers::DailyOrdersProjection;

fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A consumer name no other test (or running worker) shares, leaked to `'static`.
fn unique(prefix: &str) -> &'static str {
    Box::leak(format!("test.{prefix}.{}", uuid::Uuid::now_v7().simple()).into_boxed_str())
}

/// Test queues vanish by themselves a minute after use, even if a test dies before cleaning up.
fn test_options() -> ConsumerOptions {
    ConsumerOptions {
        queue_expires: Some(Duration::from_secs(60)),
        ..ConsumerOptions::default()
    }
}

/// Deletes a test consumer's queues, so test runs leave nothing behind in the broker.
async fn remove_queues(consumer: &str) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    for queue in [queue_name(consumer), dead_letter_queue_name(consumer)] {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = connection.close(200, "done".into()).await;
}

async fn tenant(db: &TestDb) -> TenantId {
    let t = NewTenant {
        company: "Broker".into(),
        email: "b@broker.example".into(),
    }
    .validate(TenantId::new(), Utc::now())
    .unwrap();
    let (key, _) = ApiKey::generate(t.id, "k", Utc::now());
    db.store.create_with_key(&t, &key, None).await.unwrap();
    t.id
}

fn order_event(tenant: TenantId, aggregate: uuid::Uuid, version: i64, kind: &str) -> EventEnvelope {
    EventEnvelope::new(
        kind,
        tenant,
        Utc::now(),
        "order",
        aggregate,
        version,
        json!({ "channel": "api", "total": { "amount_minor": 500, "currency": "USD" } }),
        None,
    )
}

/// Starts a consumer; stop it with the returned sender (it then closes its connection).
fn start(
    handler: Arc<dyn EventHandler>,
    options: ConsumerOptions,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(run_consumer(amqp_url(), handler, options, stopping));
    (stop, task)
}

async fn stop(
    consumer: (
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    ),
) {
    let _ = consumer.0.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), consumer.1).await;
}

/// Polls `check` until it holds, for at most `secs` seconds.
async fn eventually(secs: u64, mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..secs * 20 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Records the events of one tenant, optionally failing every time.
struct Recording {
    name: &'static str,
    subscriptions: &'static [&'static str],
    tenant: TenantId,
    fail: bool,
    seen: Mutex<Vec<EventEnvelope>>,
}

#[async_trait]
impl EventHandler for Recording {
    fn name(&self) -> &'static str {
        self.name
    }
    fn subscriptions(&self) -> &'static [&'static str] {
        self.subscriptions
    }
    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        if event.tenant_id != self.tenant {
            return Ok(());
        }
        self.seen.lock().unwrap().push(event.clone());
        if self.fail {
            Err(HandlerError::Transient("always down".into()))
        } else {
            Ok(())
        }
    }
}

async fn drain(db: &TestDb, publisher: &RabbitPublisher) {
    for _ in 0..200 {
        let round = db.store.relay_round(publisher, 100).await.unwrap();
        if round.claimed == 0 && db.store.outbox_backlog().await.unwrap().0 == 0 {
            return;
        }
        if round.error.is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("the outbox did not drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmed_events_reach_the_consumer_in_aggregate_order() {
    let db = TestDb::postgres().await;
    let t = tenant(&db).await;
    let handler = Arc::new(Recording {
        name: unique("roundtrip"),
        subscriptions: &["order.*"],
        tenant: t,
        fail: false,
        seen: Mutex::new(Vec::new()),
    });
    let options = test_options();
    let publisher = RabbitPublisher::new(amqp_url(), vec![queue_spec(handler.as_ref(), &options)]);
    let aggregates: Vec<_> = (0..3).map(|_| uuid::Uuid::now_v7()).collect();
    for version in 1..=3 {
        let events: Vec<_> = aggregates
            .iter()
            .map(|a| order_event(t, *a, version, "order.updated"))
            .collect();
        db.store.append_outbox(&events).await.unwrap();
    }
    drain(&db, &publisher).await;
    let consumer = start(handler.clone(), options);
    assert!(eventually(15, async || handler.seen.lock().unwrap().len() >= 9).await);
    stop(consumer).await;
    let seen = handler.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 9);
    for a in &aggregates {
        let versions: Vec<_> = seen
            .iter()
            .filter(|e| e.aggregate_id == *a)
            .map(|e| e.version)
            .collect();
        assert_eq!(versions, vec![1, 2, 3], "aggregate order kept");
    }
    remove_queues(handler.name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consumer_that_keeps_failing_sends_the_event_to_its_dead_letter_queue() {
    let db = TestDb::postgres().await;
    let t = tenant(&db).await;
    let handler = Arc::new(Recording {
        // Its own event type: no other test's events reach this queue.
        name: unique("poison"),
        subscriptions: &["poisontest.*"],
        tenant: t,
        fail: true,
        seen: Mutex::new(Vec::new()),
    });
    let options = ConsumerOptions {
        delivery_limit: 2,
        ..test_options()
    };
    let publisher = RabbitPublisher::new(amqp_url(), vec![queue_spec(handler.as_ref(), &options)]);
    let event = order_event(t, uuid::Uuid::now_v7(), 1, "poisontest.created");
    db.store
        .append_outbox(std::slice::from_ref(&event))
        .await
        .unwrap();
    drain(&db, &publisher).await;
    let consumer = start(handler.clone(), options);

    let mut dead: Option<EventEnvelope> = None;
    let found = eventually(20, async || {
        if let Ok(messages) = dead_letters::peek(&amqp_url(), handler.name, 10).await
            && let Some(dead_letters::DeadMessage::Event(e)) = messages.into_iter().next()
        {
            dead = Some(*e);
        }
        dead.is_some()
    })
    .await;
    stop(consumer).await;
    assert!(found, "the event should be dead-lettered");
    assert_eq!(dead.unwrap().id, event.id);
    let depth = &rabbitmq::queue_depths(&amqp_url(), &[handler.name])
        .await
        .unwrap()[0];
    assert_eq!(
        (depth.ready, depth.dead),
        (Some(0), Some(1)),
        "what metrics report"
    );
    assert!(
        handler.seen.lock().unwrap().len() >= 2,
        "it was retried before giving up"
    );

    // Replay puts it back on the consumer's own queue, and empties the DLQ.
    assert_eq!(
        dead_letters::replay(&amqp_url(), handler.name)
            .await
            .unwrap(),
        1
    );
    assert!(
        dead_letters::peek(&amqp_url(), handler.name, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let back = channel
        .basic_get(
            queue_name(handler.name).as_str().into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap()
        .expect("the replayed message is on the consumer's queue");
    let replayed: EventEnvelope = serde_json::from_slice(&back.delivery.data).unwrap();
    assert_eq!(replayed.id, event.id);
    let missing = rabbitmq::queue_depths(&amqp_url(), &["test.no-such-consumer"])
        .await
        .unwrap();
    assert_eq!((missing[0].ready, missing[0].dead), (None, None));
    let _ = connection.close(200, "done".into()).await;
    remove_queues(handler.name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_connection_loses_no_event_and_redeliveries_count_once() {
    let db = TestDb::postgres().await;
    let t = tenant(&db).await;
    let projection: Arc<dyn EventHandler> = Arc::new(DailyOrdersProjection::named(
        db.store.clone(),
        unique("daily"),
    ));
    let options = test_options();
    let publisher =
        RabbitPublisher::new(amqp_url(), vec![queue_spec(projection.as_ref(), &options)]);
    let events: Vec<_> = (0..40)
        .map(|_| order_event(t, uuid::Uuid::now_v7(), 1, "order.created"))
        .collect();

    // Half goes out; then the broker connection drops under the publisher.
    db.store.append_outbox(&events[..20]).await.unwrap();
    drain(&db, &publisher).await;
    publisher.close().await;
    db.store.append_outbox(&events[20..]).await.unwrap();
    let consumer = start(projection.clone(), options.clone());
    drain(&db, &publisher).await; // reconnects by itself

    // Redelivery: the same events again, and a consumer restart mid-stream.
    let resent = publisher.publish(&events[..10]).await;
    assert_eq!(resent.confirmed.len(), 10);
    stop(consumer).await;
    let consumer = start(projection.clone(), options);

    let counted = eventually(20, async || {
        let rows = db.store.daily_orders(t).await.unwrap();
        rows.iter().map(|r| r.2).sum::<i64>() >= 40
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await; // let any stray duplicate land
    stop(consumer).await;
    assert!(counted, "every event arrived");
    let rows = db.store.daily_orders(t).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.2).sum::<i64>(),
        40,
        "each event counted exactly once"
    );
    assert_eq!(rows.iter().map(|r| r.4).sum::<i64>(), 40 * 500);
    remove_queues(projection.name()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_worker_reports_queue_depth_publish_lag_and_dead_letters_on_its_metrics_port() {
    let db = TestDb::postgres().await;
    let t = tenant(&db).await;
    let name = unique("depth");
    let handler = Arc::new(Recording {
        name,
        subscriptions: &["depthtest.*"],
        tenant: t,
        fail: false,
        seen: Mutex::new(Vec::new()),
    });
    let options = test_options();
    // Nobody consumes: the published event waits in the queue.
    let publisher = RabbitPublisher::new(amqp_url(), vec![queue_spec(handler.as_ref(), &options)]);
    let metrics = tote::metrics::Metrics::new().unwrap();
    let event = order_event(t, uuid::Uuid::now_v7(), 1, "depthtest.created");
    db.store
        .append_outbox(std::slice::from_ref(&event))
        .await
        .unwrap();
    for _ in 0..50 {
        let round = db.store.relay_round(&publisher, 100).await.unwrap();
        metrics.observe_publish(&round.lag_seconds);
        if round.published == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settings = tote::config::Settings::from_lookup(|k| match k {
        "TOTE_WORKER_METRICS_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(db.url.clone()),
        _ => None,
    })
    .unwrap();
    let (server, addr) = tote::worker::serve_metrics(&settings, &metrics).unwrap();
    let server = tokio::spawn(server);
    let sampler = metrics.spawn_broker_sampler(
        db.store.clone(),
        Some(amqp_url()),
        vec![name],
        Duration::from_millis(100),
    );

    let url = format!("http://{addr}/metrics");
    let queue_line = format!("tote_queue_messages{{queue=\"{}\"}} 1", queue_name(name));
    let dead_line = format!("tote_dead_letters{{consumer=\"{name}\"}} 0");
    let mut text = String::new();
    let seen = eventually(10, async || {
        text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        text.contains(&queue_line) && text.contains(&dead_line)
    })
    .await;
    assert!(seen, "{text}");
    assert!(text.contains("tote_events_published_total 1"), "{text}");
    assert!(
        text.contains("tote_outbox_publish_lag_seconds_count 1"),
        "{text}"
    );
    let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    sampler.abort();
    server.abort();
    remove_queues(name).await;
}
