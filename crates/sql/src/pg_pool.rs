//! The pool the store's PostgreSQL transactions run on (`docs/adr/024`).
//!
//! sqlx's own pool tests every connection it gets back with a round trip of its own (a
//! `Sync`, unconditionally in sqlx 0.8): one trip in five on the order path, and one per
//! consumer transaction. This pool, deadpool's, gives a connection back untested when its
//! transaction ended cleanly (`COMMIT` answered, so nothing is pending on it), and only a
//! connection that may be in an unknown state — its transaction dropped open, a statement
//! cancelled mid-way — is tested (and its queued `ROLLBACK` flushed) before its next use.

use crate::sharded_pool::Sharded;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions, Connection, PgConnection};
use std::time::Duration;

/// sqlx's default: a connection is replaced after half an hour.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A pooled connection and whether it is known to be idle, outside any transaction.
#[derive(Debug)]
pub(crate) struct Pooled {
    pub(crate) conn: PgConnection,
    /// Set only once a transaction on it has ended and been answered; cleared when one begins.
    pub(crate) clean: bool,
}

/// Opens connections with the store's options; tests a returned one only if it is not clean.
#[derive(Debug)]
pub(crate) struct Connections {
    options: PgConnectOptions,
}

impl managed::Manager for Connections {
    type Type = Pooled;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Pooled, sqlx::Error> {
        let conn = PgConnection::connect_with(&self.options).await?;
        Ok(Pooled { conn, clean: true })
    }

    async fn recycle(&self, pooled: &mut Pooled, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        // As sqlx's pool: a server process does not grow for ever (caches, memory).
        if metrics.age() > MAX_LIFETIME {
            return Err(RecycleError::message("older than its maximum lifetime"));
        }
        if pooled.clean {
            return Ok(());
        }
        // As sqlx's pool does with every connection: the ping first sends what is queued
        // (a dropped transaction's `ROLLBACK`) and reads every answer still owed.
        pooled.conn.ping().await.map_err(RecycleError::Backend)?;
        pooled.clean = true;
        Ok(())
    }
}

/// The transactions' pool: one shard per HTTP worker, or one (`crate::sharded_pool`).
pub(crate) type TxPool = Sharded<Connections>;
pub(crate) type TxConnection = managed::Object<Connections>;

/// A pool of at most `size` connections to `url`, opened as they are needed.
pub(crate) fn tx_pool(url: &str, size: u32) -> Result<TxPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    // As the sea-orm pool is configured: statements are traced by the store, not logged.
    build(options.disable_statement_logging(), size, 1)
}

/// A pool of at most `size` connections of its own, opened as `pool`'s are, in `shards`
/// shards (at most one per connection).
pub(crate) fn sibling(pool: &TxPool, size: u32, shards: usize) -> Result<TxPool, sqlx::Error> {
    build(pool.manager().options.clone(), size, shards)
}

fn build(options: PgConnectOptions, size: u32, shards: usize) -> Result<TxPool, sqlx::Error> {
    Sharded::build(size.max(1) as usize, shards, |own| {
        managed::Pool::builder(Connections {
            options: options.clone(),
        })
        .max_size(own)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
    })
    .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))
}
