//! Pooled connections are handed out without a ping (a round trip per transaction saved), so
//! one the server closed while it sat idle must cost no request: the transaction that meets it
//! fails at `BEGIN` and takes another connection. PostgreSQL only (SQLite has no server).

mod support;

use futures::future::join_all;
use identity::ports::ApiKeyRepository;
use kernel::OrderId;
use order::ports::{IdempotencyRecord, OrderUnitOfWork};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use sql::{SqlConfig, SqlStore};
use support::World;
use testkit::Backend;

#[tokio::test]
async fn connections_the_server_closed_while_idle_cost_no_request() {
    let w = World::new(Backend::Postgres).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "CUP", 3).await;
    // Several reads at once leave several connections idle in the pool.
    let reads = join_all((0..6).map(|_| w.level(&ctx, "CUP"))).await;
    assert!(reads.iter().all(|r| *r == (3, 0)));

    terminate_pooled_connections(&w).await;
    // Every idle connection is dead now: a key look-up (a plain statement on the pool), the
    // readiness check and then transactions still get their answers.
    assert!(
        w.store()
            .find_active_by_hash("no-such-key")
            .await
            .unwrap()
            .is_none()
    );
    terminate_pooled_connections(&w).await;
    w.store()
        .ping()
        .await
        .expect("readiness: the database is up");
    terminate_pooled_connections(&w).await;
    for _ in 0..3 {
        assert_eq!(w.level(&ctx, "CUP").await, (3, 0));
    }
    let reads = join_all((0..6).map(|_| w.level(&ctx, "CUP"))).await;
    assert!(reads.iter().all(|r| *r == (3, 0)));
}

/// The tenant is set in the same round trip as `BEGIN`, by the store's own transaction; it
/// must end with that transaction. A dropped one is rolled back at once, not at its
/// connection's next use (its locks would be held till then), and neither a tenant's nor the
/// all-tenants setting outlives its transaction on the connection that comes back.
#[tokio::test]
async fn a_tenant_transaction_leaves_its_connection_clean() {
    let w = World::new(Backend::Postgres).await;
    let ctx = w.tenant().await;
    let other = w.tenant().await;
    // One connection: every transaction below runs on the same one.
    let store = store_of(&w, 1).await;
    let record = IdempotencyRecord {
        key: "retry-1".into(),
        fingerprint: "f".into(),
        order_id: OrderId::new(),
    };

    let mut tx = OrderUnitOfWork::begin(&store, ctx.tenant_id).await.unwrap();
    tx.save_idempotency(&record).await.unwrap();
    // A read flushes the deferred write: the transaction sees its own row, so RLS admitted it.
    assert!(tx.find_idempotency("retry-1").await.unwrap().is_some());
    drop(tx);
    wait_until_no_transaction_is_open(&w).await;

    let mut tx = OrderUnitOfWork::begin(&store, ctx.tenant_id).await.unwrap();
    assert!(
        tx.find_idempotency("retry-1").await.unwrap().is_none(),
        "the dropped transaction was rolled back"
    );
    tx.save_idempotency(&record).await.unwrap();
    tx.commit().await.unwrap();

    // The same connection, next for another tenant, and after a look across all tenants.
    let mut theirs = OrderUnitOfWork::begin(&store, other.tenant_id)
        .await
        .unwrap();
    assert!(
        theirs.find_idempotency("retry-1").await.unwrap().is_none(),
        "another tenant's transaction does not see the row"
    );
    drop(theirs);
    store.outbox_backlog().await.unwrap();
    let mut theirs = OrderUnitOfWork::begin(&store, other.tenant_id)
        .await
        .unwrap();
    assert!(
        theirs.find_idempotency("retry-1").await.unwrap().is_none(),
        "the all-tenants setting ended with its transaction"
    );
    drop(theirs);
    let mut tx = OrderUnitOfWork::begin(&store, ctx.tenant_id).await.unwrap();
    assert!(tx.find_idempotency("retry-1").await.unwrap().is_some());
}

/// Background work (the relay, consumers) runs on a pool of its own: while it holds every one
/// of its connections, a request's transaction still begins at once. Size 0 shares the pool.
#[tokio::test]
async fn a_store_with_its_own_pool_never_takes_the_requests_connections() {
    let w = World::new(Backend::Postgres).await;
    let ctx = w.tenant().await;
    let requests = store_of(&w, 1).await;

    let background = requests.with_own_pool(1).unwrap();
    let held = OrderUnitOfWork::begin(&background, ctx.tenant_id)
        .await
        .unwrap();
    let tx = soon(OrderUnitOfWork::begin(&requests, ctx.tenant_id))
        .await
        .expect("the requests' pool is not the background's")
        .unwrap();
    tx.commit().await.unwrap();
    drop(held);

    let shared = requests.with_own_pool(0).unwrap();
    let held = OrderUnitOfWork::begin(&shared, ctx.tenant_id)
        .await
        .unwrap();
    assert!(
        soon(OrderUnitOfWork::begin(&requests, ctx.tenant_id))
            .await
            .is_none(),
        "size 0 shares the one connection, so the second transaction waits for it"
    );
    drop(held);
}

/// A store on the test database whose transactions share `connections` connections.
async fn store_of(w: &World, connections: u32) -> SqlStore {
    SqlStore::connect(&SqlConfig {
        url: w.db.url.clone(),
        max_connections: connections,
    })
    .await
    .unwrap()
}

/// What `begin` gives, or `None` if it waited longer than half a second (for a connection).
async fn soon<T>(begin: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout(std::time::Duration::from_millis(500), begin)
        .await
        .ok()
}

/// Polls the server until no session of the test database is inside a transaction; fails
/// after a generous bound (the rollback is one round trip away).
async fn wait_until_no_transaction_is_open(w: &World) {
    let admin = Database::connect(w.db.superuser_url().expect("PostgreSQL"))
        .await
        .unwrap();
    for _ in 0..500 {
        let row = admin
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() == 0 {
            admin.close().await.unwrap();
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("a dropped transaction stayed open on its connection");
}

async fn terminate_pooled_connections(w: &World) {
    let admin = Database::connect(w.db.superuser_url().expect("PostgreSQL"))
        .await
        .unwrap();
    let row = admin
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap();
    let terminated: i64 = row.try_get("", "n").unwrap();
    assert!(terminated >= 1, "no pooled connection to end");
    admin.close().await.unwrap();
}

/// The requests' pool is split into a shard per HTTP worker (ADR 028), but its total stays:
/// one thread alone still gets every connection at once, and the background pool cut from it
/// is one shard of its own size.
#[tokio::test]
async fn a_sharded_store_keeps_all_its_connections_for_one_thread() {
    let w = World::new(Backend::Postgres).await;
    let ctx = w.tenant().await;
    let store = store_of(&w, 4).await.sharded_by_thread(3).unwrap();
    assert_eq!(store.tx_pool_shards(), 3);
    let mut held = Vec::new();
    for _ in 0..4 {
        let tx = soon(OrderUnitOfWork::begin(&store, ctx.tenant_id))
            .await
            .expect("the pool has room: no transaction waits")
            .unwrap();
        held.push(tx);
    }
    assert!(
        soon(OrderUnitOfWork::begin(&store, ctx.tenant_id))
            .await
            .is_none(),
        "four connections in all: the fifth waits"
    );
    drop(held);
    assert_eq!(store.with_own_pool(2).unwrap().tx_pool_shards(), 1);
    assert_eq!(
        store.sharded_by_thread(9).unwrap().tx_pool_shards(),
        4,
        "never more shards than connections"
    );
}
