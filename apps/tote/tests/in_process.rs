//! The embedded event pipeline (`InProcessPublisher`) on both databases: consumers take a
//! batch side by side, a failing batch falls back to one event at a time, and a bad event is
//! dead-lettered on its own while the rest are handled once.

use async_trait::async_trait;
use chrono::Utc;
use identity::ports::TenantRepository;
use identity::{ApiKey, NewTenant};
use kernel::{EventEnvelope, EventHandler, EventPublisher, HandlerError, TenantId};
use serde_json::json;
use std::sync::{Arc, Mutex};
use testkit::{Backend, TestDb, on_both_databases};
use tote::consumers::DailyOrdersProjection;
use tote::relay::InProcessPublisher;

on_both_databases!(
    a_batch_reaches_every_consumer_once_and_a_bad_event_is_dead_lettered_alone,
    redelivered_batches_count_once_in_the_read_model,
);

async fn tenant(db: &TestDb) -> TenantId {
    let t = NewTenant {
        company: "Pipeline".into(),
        email: "p@pipeline.example".into(),
    }
    .validate(TenantId::new(), Utc::now())
    .unwrap();
    let (key, _) = ApiKey::generate(t.id, "k", Utc::now());
    db.store.create_with_key(&t, &key, None).await.unwrap();
    t.id
}

fn event(tenant: TenantId, kind: &str, total: i64) -> EventEnvelope {
    EventEnvelope::new(
        kind,
        tenant,
        Utc::now(),
        "order",
        uuid::Uuid::now_v7(),
        1,
        json!({ "channel": "api", "total": { "amount_minor": total, "currency": "USD" } }),
        None,
    )
}

/// Records what it was handed; refuses (permanently) any `order.poison` event.
#[derive(Default)]
struct Recorder {
    batches: Mutex<Vec<usize>>,
    handled: Mutex<Vec<String>>,
}

#[async_trait]
impl EventHandler for Recorder {
    fn name(&self) -> &'static str {
        "test.recorder"
    }

    fn subscriptions(&self) -> &'static [&'static str] {
        &["order.*"]
    }

    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        if event.event_type == "order.poison" {
            return Err(HandlerError::Permanent("poison".into()));
        }
        self.handled.lock().unwrap().push(event.event_type.clone());
        Ok(())
    }

    async fn handle_batch(&self, events: &[EventEnvelope]) -> Result<(), HandlerError> {
        self.batches.lock().unwrap().push(events.len());
        if events.iter().any(|e| e.event_type == "order.poison") {
            return Err(HandlerError::Permanent("poison in the batch".into()));
        }
        let mut handled = self.handled.lock().unwrap();
        handled.extend(events.iter().map(|e| e.event_type.clone()));
        Ok(())
    }
}

async fn daily_created(db: &TestDb, tenant: TenantId) -> (u64, i64) {
    let rows = db.store.daily_orders(tenant).await.unwrap();
    rows.iter()
        .fold((0, 0), |(n, r), (_, _, created, _, revenue)| {
            (n + *created as u64, r + revenue)
        })
}

async fn a_batch_reaches_every_consumer_once_and_a_bad_event_is_dead_lettered_alone(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let t = tenant(&db).await;
    let clean = Arc::new(Recorder::default());
    let picky = Arc::new(Recorder::default());
    let publisher = InProcessPublisher::new(
        db.store.clone(),
        vec![
            clean.clone() as Arc<dyn EventHandler>,
            Arc::new(DailyOrdersProjection::named(db.store.clone(), "test.daily")),
        ],
    );
    let events = vec![
        event(t, "order.created", 100),
        event(t, "order.created", 200),
        event(t, "inventory.changed", 0),
        event(t, "order.created", 300),
    ];
    let outcome = publisher.publish(&events).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.confirmed.len(), 4);
    // One batch of the three events it subscribes to, handled together.
    assert_eq!(*clean.batches.lock().unwrap(), vec![3]);
    assert_eq!(clean.handled.lock().unwrap().len(), 3);
    assert_eq!(daily_created(&db, t).await, (3, 600));

    let with_poison = InProcessPublisher::new(
        db.store.clone(),
        vec![picky.clone() as Arc<dyn EventHandler>],
    );
    let events = vec![
        event(t, "order.created", 1),
        event(t, "order.poison", 0),
        event(t, "order.created", 2),
    ];
    let outcome = with_poison.publish(&events).await;
    // The batch failed; one at a time, the good events went through and the poison was
    // dead-lettered, which counts as handed on.
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.confirmed.len(), 3);
    assert_eq!(*picky.batches.lock().unwrap(), vec![3]);
    assert_eq!(
        *picky.handled.lock().unwrap(),
        vec!["order.created".to_owned(), "order.created".to_owned()]
    );
    let dead = db
        .store
        .dead_letters(Some("test.recorder"), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event.id, events[1].id);
}

async fn redelivered_batches_count_once_in_the_read_model(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, b) = (tenant(&db).await, tenant(&db).await);
    let projection: Arc<dyn EventHandler> =
        Arc::new(DailyOrdersProjection::named(db.store.clone(), "test.daily"));
    let publisher = InProcessPublisher::new(db.store.clone(), vec![projection.clone()]);
    let first = vec![
        event(a, "order.created", 100),
        event(b, "order.created", 1000),
        event(a, "order.created", 50),
    ];
    publisher.publish(&first).await;
    // Redelivered with one new event: only the new one counts; each tenant sees its own.
    let mut again = first.clone();
    again.push(event(a, "order.created", 7));
    publisher.publish(&again).await;
    // And one at a time, as after a failed batch: still nothing twice.
    for e in &again {
        projection.handle(e).await.unwrap();
    }
    assert_eq!(daily_created(&db, a).await, (3, 157));
    assert_eq!(daily_created(&db, b).await, (1, 1000));
}
