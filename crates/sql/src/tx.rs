//! The store's transaction: sea-orm's own, or on PostgreSQL one begun with its settings in
//! the same round trip.
//!
//! Every tenant-scoped transaction on PostgreSQL must set `app.tenant_id` before its first
//! statement (row-level security reads it). sea-orm's transaction sends `BEGIN` on its own
//! and waits, so the setting was a second round trip on every request — one of five on the
//! order path. sqlx can begin with a statement of our choosing, and PostgreSQL runs
//! `BEGIN; SET LOCAL app.tenant_id = …` sent as one simple query in one trip (`docs/adr/023`).
//! [`Tx`] runs sea-orm's queries on that connection through sea-orm's [`ConnectionTrait`],
//! so repositories do not see the difference.

use crate::pg_pool::{TxConnection, TxPool};
use deadpool::managed::{Object, PoolError, TimeoutType};
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
    /// Always `Some` until dropped.
    conn: Option<Mutex<TxConnection>>,
    open: bool,
}

impl PgTx {
    fn pooled(&mut self) -> &mut TxConnection {
        self.conn.as_mut().expect("present until drop").get_mut()
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let Some(conn) = self.conn.take() else { return };
        let mut pooled = conn.into_inner();
        // Queued as sqlx's own transactions do, and sent now rather than at the connection's
        // next use: until then its locks would be held. Should that fail, or no runtime be
        // there to send it, the connection is not clean and the pool tests it before lending
        // it again.
        PgManager::start_rollback(&mut pooled.conn);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                match sqlx::Connection::ping(&mut pooled.conn).await {
                    Ok(()) => pooled.clean = true,
                    Err(_) => drop(Object::take(pooled)),
                }
            });
        }
    }
}

impl Tx {
    /// On PostgreSQL, `BEGIN` and `settings` (`SET LOCAL` statements, without parameters)
    /// in one round trip, on a connection of `pool`.
    pub(crate) async fn begin_postgres(pool: &TxPool, settings: &str) -> Result<Self, DbErr> {
        let mut pooled = pool.get().await.map_err(acquire_err)?;
        // Until its transaction is answered, the connection's state is not known.
        pooled.clean = false;
        let begin = format!("BEGIN; {settings}");
        if let Err(e) = PgManager::begin(&mut pooled.conn, Some(begin.into())).await {
            // Had `BEGIN` run and a setting failed, the connection would go back to the pool
            // inside an aborted transaction; it leaves the pool and closes instead.
            drop(Object::take(pooled));
            return Err(conn_err(e));
        }
        Ok(Self::Pg(PgTx {
            conn: Some(Mutex::new(pooled)),
            open: true,
        }))
    }

    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(tx) => tx.commit().await,
            Self::Pg(mut tx) => {
                tx.open = false;
                let pooled = tx.pooled();
                PgManager::commit(&mut pooled.conn)
                    .await
                    .map_err(exec_err)?;
                // `COMMIT` answered: nothing is pending, so the pool need not test it.
                pooled.clean = true;
                Ok(())
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
fn acquire_err(e: PoolError<sqlx::Error>) -> DbErr {
    match e {
        PoolError::Timeout(TimeoutType::Wait) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        PoolError::Closed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        PoolError::Backend(e) => conn_err(e),
        // Connecting timed out, or the pool was built wrong.
        e => DbErr::Conn(RuntimeErr::Internal(format!("no database connection: {e}"))),
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
    let mut pooled = tx.conn.as_ref().expect("present until drop").lock().await;
    f(&mut pooled.conn).await
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
