//! Pooled connections are handed out without a ping (a round trip per transaction saved), so
//! one the server closed while it sat idle must cost no request: the transaction that meets it
//! fails at `BEGIN` and takes another connection. PostgreSQL only (SQLite has no server).

mod support;

use futures::future::join_all;
use identity::ports::ApiKeyRepository;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
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
