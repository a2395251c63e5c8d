//! The outbox relay's claims against real databases, with a recording fake publisher.

use async_trait::async_trait;
use chrono::Utc;
use identity::ports::TenantRepository;
use identity::{ApiKey, NewTenant};
use kernel::{EventEnvelope, EventId, EventPublisher, PublishError, PublishOutcome, TenantId};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::{Backend, TestDb, on_both_databases};

/// Records what it is given; optionally refuses everything after the first `accept` events.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<EventEnvelope>>,
    accept: Option<usize>,
}

#[async_trait]
impl EventPublisher for Recorder {
    async fn publish(&self, events: &[EventEnvelope]) -> PublishOutcome {
        tokio::time::sleep(Duration::from_millis(2)).await; // widen the race window
        let mut seen = self.seen.lock().unwrap();
        let room = self
            .accept
            .map_or(events.len(), |a| a.saturating_sub(seen.len()));
        let taken = &events[..room.min(events.len())];
        seen.extend(taken.iter().cloned());
        PublishOutcome {
            confirmed: taken.iter().map(|e| e.id).collect(),
            error: (taken.len() < events.len()).then(|| PublishError("broker away".into())),
        }
    }
}

async fn tenant(db: &TestDb) -> TenantId {
    let t = NewTenant {
        company: "Relay".into(),
        email: "r@relay.example".into(),
    }
    .validate(TenantId::new(), Utc::now())
    .unwrap();
    let (key, _) = ApiKey::generate(t.id, "k", Utc::now());
    db.store.create_with_key(&t, &key, None).await.unwrap();
    t.id
}

/// `aggregates` aggregates with `versions` events each, appended version by version.
async fn seed(db: &TestDb, tenant: TenantId, aggregates: usize, versions: i64) -> usize {
    let ids: Vec<uuid::Uuid> = (0..aggregates).map(|_| uuid::Uuid::now_v7()).collect();
    for version in 1..=versions {
        let events: Vec<_> = ids
            .iter()
            .map(|id| {
                EventEnvelope::new(
                    "order.updated",
                    tenant,
                    Utc::now(),
                    "order",
                    *id,
                    version,
                    json!({ "v": version }),
                    None,
                )
            })
            .collect();
        db.store.append_outbox(&events).await.unwrap();
    }
    aggregates * versions as usize
}

fn assert_each_once_in_aggregate_order(seen: &[EventEnvelope], expected: usize) {
    let mut ids: Vec<EventId> = seen.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), seen.len(), "an event was published twice");
    assert_eq!(seen.len(), expected, "an event was never published");
    let mut last: HashMap<uuid::Uuid, i64> = HashMap::new();
    for e in seen {
        let previous = last.insert(e.aggregate_id, e.version).unwrap_or(0);
        assert_eq!(
            e.version,
            previous + 1,
            "aggregate {} out of order",
            e.aggregate_id
        );
    }
}

on_both_databases!(one_relay_publishes_everything_once_in_aggregate_order);

async fn one_relay_publishes_everything_once_in_aggregate_order(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tenant(&db).await;
    let expected = seed(&db, t, 5, 4).await;
    let recorder = Recorder::default();
    while db.store.relay_round(&recorder, 50).await.unwrap().claimed > 0 {}
    assert_each_once_in_aggregate_order(&recorder.seen.lock().unwrap(), expected);
    assert_eq!(db.store.outbox_backlog().await.unwrap().0, 0);
}

on_both_databases!(an_unconfirmed_event_stays_pending_and_is_published_later);

async fn an_unconfirmed_event_stays_pending_and_is_published_later(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tenant(&db).await;
    let expected = seed(&db, t, 6, 1).await;
    let flaky = Recorder {
        accept: Some(2),
        ..Recorder::default()
    };
    let round = db.store.relay_round(&flaky, 50).await.unwrap();
    assert_eq!((round.claimed, round.published), (6, 2));
    assert!(round.error.is_some());
    assert_eq!(db.store.outbox_backlog().await.unwrap().0, 4);
    let healthy = Recorder::default();
    while db.store.relay_round(&healthy, 50).await.unwrap().claimed > 0 {}
    let mut all = flaky.seen.lock().unwrap().clone();
    all.extend(healthy.seen.lock().unwrap().iter().cloned());
    assert_each_once_in_aggregate_order(&all, expected);
}

/// Never answers: a broker that hangs until the round is given up.
struct Hangs;

#[async_trait]
impl EventPublisher for Hangs {
    async fn publish(&self, _: &[EventEnvelope]) -> PublishOutcome {
        std::future::pending().await
    }
}

on_both_databases!(a_round_cut_off_mid_publish_leaves_its_events_pending);

/// On PostgreSQL the claim marks events published before they go out; a round that never
/// finishes must roll those marks back, so every event is still delivered.
async fn a_round_cut_off_mid_publish_leaves_its_events_pending(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tenant(&db).await;
    let expected = seed(&db, t, 5, 1).await;
    let cut = tokio::time::timeout(Duration::from_millis(300), db.store.relay_round(&Hangs, 50));
    assert!(cut.await.is_err(), "the hanging publish was cut off");
    assert_eq!(db.store.outbox_backlog().await.unwrap().0, expected as u64);
    let healthy = Recorder::default();
    // The abandoned transaction's rollback reaches the server in the background; until then
    // its rows are skipped as locked.
    for _ in 0..100 {
        db.store.relay_round(&healthy, 50).await.unwrap();
        if healthy.seen.lock().unwrap().len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_each_once_in_aggregate_order(&healthy.seen.lock().unwrap(), expected);
    assert_eq!(db.store.outbox_backlog().await.unwrap().0, 0);
}

/// Several relays may run at once on PostgreSQL (`FOR UPDATE SKIP LOCKED`): each event is
/// published once, and each aggregate's events in version order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_on_postgres_publish_each_event_once_in_aggregate_order() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tenant(&db).await;
    let expected = seed(&db, t, 20, 10).await;
    let recorder = Arc::new(Recorder::default());
    let relays: Vec<_> = (0..2)
        .map(|_| {
            let (store, recorder) = (db.store.clone(), recorder.clone());
            tokio::spawn(async move {
                let mut idle = 0;
                // Stop after a few empty rounds in a row: the other relay may hold the rest.
                while idle < 5 {
                    let round = store.relay_round(recorder.as_ref(), 7).await.unwrap();
                    if round.claimed == 0 {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    } else {
                        idle = 0;
                    }
                }
            })
        })
        .collect();
    for relay in relays {
        relay.await.unwrap();
    }
    assert_each_once_in_aggregate_order(&recorder.seen.lock().unwrap(), expected);
}

on_both_databases!(an_event_waits_for_an_earlier_version_that_sits_outside_the_claim_window);

/// The claim reads a window of the oldest pending ids, but an aggregate's earlier version can
/// carry a later id (written by a process whose clock is behind) and sit beyond that window:
/// the later version must still wait for it.
async fn an_event_waits_for_an_earlier_version_that_sits_outside_the_claim_window(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let t = tenant(&db).await;
    let aggregate = uuid::Uuid::now_v7();
    let event = |aggregate, version| {
        EventEnvelope::new(
            "order.updated",
            t,
            Utc::now(),
            "order",
            aggregate,
            version,
            json!({ "v": version }),
            None,
        )
    };
    // Ids are time-ordered: version 2 gets the oldest id, version 1 the newest.
    let mut events = vec![event(aggregate, 2)];
    events.extend((0..10).map(|_| event(uuid::Uuid::now_v7(), 1)));
    events.push(event(aggregate, 1));
    assert!(events[0].id < events[11].id);
    db.store.append_outbox(&events).await.unwrap();
    let recorder = Recorder::default();
    // One event a round: the window is five ids, so version 1 stays outside it for a while.
    while db.store.relay_round(&recorder, 1).await.unwrap().claimed > 0 {}
    let seen = recorder.seen.lock().unwrap();
    assert_each_once_in_aggregate_order(&seen, events.len());
    assert_ne!(seen[0].id, events[0].id, "version 2 went out first");
}
