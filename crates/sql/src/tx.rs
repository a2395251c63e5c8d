//! The store's transaction: sea-orm's own, or on PostgreSQL one begun with its settings in
//! the same round trip.
//!
//! Every tenant-scoped transaction on PostgreSQL must set `app.tenant_id` before its first
//! statement (row-level security reads it). sea-orm's transaction sends `BEGIN` on its own
//! and waits, so the setting was a second round trip on every request — one of five on the
//! order path. sqlx can begin with a statement of our choosing, and PostgreSQL runs
//! `BEGIN; SELECT set_config(…)` sent as one simple query in one trip (`docs/adr/023`).
//! [`Tx`] runs sea-orm's queries on that connection through sea-orm's [`ConnectionTrait`],
//! so repositories do not see the difference.

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Database, Executor, PgConnection, Postgres, TransactionManager};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement, Values,
};
use sea_query_binder::SqlxValues;
use tokio::sync::Mutex;

/// A transaction of the store: dropping it without [`commit`](Tx::commit) rolls it back.
#[derive(Debug)]
pub(crate) enum Tx {
    /// SQLite: one connection, no settings to make.
    Sea(DatabaseTransaction),
    /// PostgreSQL, begun by a statement of ours.
    Pg(PgTx),
}

type PgManager = <Postgres as Database>::TransactionManager;

/// A pooled PostgreSQL connection inside a transaction it began; rolled back unless committed.
#[derive(Debug)]
pub(crate) struct PgTx {
    conn: Mutex<PoolConnection<Postgres>>,
    open: bool,
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if self.open {
            // Queued, sent before the connection's next use (as sqlx's own transactions do).
            PgManager::start_rollback(self.conn.get_mut());
        }
    }
}

impl Tx {
    /// On PostgreSQL, `BEGIN` and `settings` (`SELECT set_config(…)` calls, without
    /// parameters) in one round trip, on a connection of `pool`.
    pub(crate) async fn begin_postgres(pool: &sqlx::PgPool, settings: &str) -> Result<Self, DbErr> {
        let mut conn = pool.acquire().await.map_err(acquire_err)?;
        if let Err(e) = PgManager::begin(&mut conn, Some(format!("BEGIN; {settings}").into())).await
        {
            // Had `BEGIN` run and a setting failed, the connection would go back to the pool
            // inside an aborted transaction; it is closed instead.
            conn.close_on_drop();
            return Err(conn_err(e));
        }
        Ok(Self::Pg(PgTx {
            conn: Mutex::new(conn),
            open: true,
        }))
    }

    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(tx) => tx.commit().await,
            Self::Pg(mut tx) => {
                tx.open = false;
                PgManager::commit(tx.conn.get_mut()).await.map_err(exec_err)
            }
        }
    }
}

impl From<DatabaseTransaction> for Tx {
    fn from(tx: DatabaseTransaction) -> Self {
        Self::Sea(tx)
    }
}

/// As sea-orm reports a pool that gave no connection, so callers see one kind of error.
fn acquire_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        e => conn_err(e),
    }
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(e))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e))
}

/// `stmt` as a sqlx query; its values move into the arguments rather than being copied.
fn sqlx_query(stmt: Statement) -> (String, SqlxValues) {
    (
        stmt.sql,
        SqlxValues(stmt.values.unwrap_or(Values(Vec::new()))),
    )
}

async fn on_pg<T>(
    tx: &PgTx,
    f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, DbErr>,
) -> Result<T, DbErr> {
    let mut conn = tx.conn.lock().await;
    f(&mut conn).await
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DatabaseBackend {
        match self {
            Self::Sea(tx) => tx.get_database_backend(),
            Self::Pg(_) => DatabaseBackend::Postgres,
        }
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Sea(tx) => tx.execute(stmt).await,
            Self::Pg(tx) => {
                on_pg(tx, async |c| {
                    let (sql, values) = sqlx_query(stmt);
                    let done = sqlx::query_with(&sql, values)
                        .execute(c)
                        .await
                        .map_err(exec_err)?;
                    Ok(done.into())
                })
                .await
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Sea(tx) => tx.execute_unprepared(sql).await,
            Self::Pg(tx) => {
                on_pg(tx, async |c| {
                    let done = c.execute(sql).await.map_err(exec_err)?;
                    Ok(done.into())
                })
                .await
            }
        }
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Sea(tx) => tx.query_one(stmt).await,
            Self::Pg(tx) => {
                on_pg(tx, async |c| {
                    let (sql, values) = sqlx_query(stmt);
                    let row = sqlx::query_with(&sql, values)
                        .fetch_optional(c)
                        .await
                        .map_err(query_err)?;
                    Ok(row.map(Into::into))
                })
                .await
            }
        }
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Sea(tx) => tx.query_all(stmt).await,
            Self::Pg(tx) => {
                on_pg(tx, async |c| {
                    let (sql, values) = sqlx_query(stmt);
                    let rows = sqlx::query_with(&sql, values)
                        .fetch_all(c)
                        .await
                        .map_err(query_err)?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
                .await
            }
        }
    }
}
