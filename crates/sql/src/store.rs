use crate::pg_pool::{TxPool, sibling, tx_pool};
use crate::store_err;
use crate::tx::Tx;
use kernel::StoreError;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    RuntimeErr, TransactionTrait,
};
use std::time::Duration;

/// The setting of a transaction that sees every tenant (see `begin_all_tenants`).
pub(crate) const SEE_ALL_TENANTS: &str = "SET LOCAL app.bypass_rls = 'on'";

/// How full one connection pool is, for the `/metrics` gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open, lent out or idle.
    pub open: usize,
    pub idle: usize,
    /// The most it may open.
    pub max: usize,
    /// Borrowers waiting for a connection, where the pool counts them.
    pub waiting: Option<usize>,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct SqlConfig {
    /// `postgres://...` or `sqlite://path?mode=rwc` / `sqlite::memory:`.
    pub url: String,
    /// PostgreSQL: connections for transactions; migrations and the few reads outside a
    /// transaction have up to four more of their own. SQLite always uses one connection: it
    /// has one writer anyway, and a single connection avoids "database is locked" on
    /// read-then-write transactions.
    pub max_connections: u32,
}

/// One handle to the database, implementing every storage port. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) db: DatabaseConnection,
    /// PostgreSQL: the pool transactions run on (`crate::pg_pool`); sea-orm's pool above
    /// serves migrations and the few reads outside a transaction.
    tx_pool: Option<TxPool>,
}

/// PostgreSQL: connections of sea-orm's pool, for migrations and reads outside transactions
/// (log-in look-ups, readiness), beside the transactions' own pool.
const READ_POOL_SIZE: u32 = 4;

impl SqlStore {
    pub async fn connect(config: &SqlConfig) -> Result<Self, StoreError> {
        let mut opts = ConnectOptions::new(config.url.clone());
        opts.sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5));
        if config.url.starts_with("sqlite:") {
            opts.max_connections(1)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(5))
                        .foreign_keys(true)
                        .create_if_missing(true)
                });
        } else {
            // No ping before each use: it is a round trip of its own. A connection that died
            // idle fails at its first statement, before anything ran, and is retried.
            opts.max_connections(READ_POOL_SIZE.min(config.max_connections.max(1)))
                .min_connections(1)
                .test_before_acquire(false);
        }
        let db = Database::connect(opts).await.map_err(store_err)?;
        let tx_pool = match db.get_database_backend() {
            DatabaseBackend::Postgres => Some(
                tx_pool(&config.url, config.max_connections)
                    .map_err(|e| store_err(DbErr::Conn(RuntimeErr::SqlxError(e))))?,
            ),
            _ => None,
        };
        Ok(Self { db, tx_pool })
    }

    /// The same database, with transactions on a pool of `size` connections of their own: for
    /// background work (the outbox relay, consumers, pollers), so that its bursts never hold
    /// the connections requests wait for (ADR 026). `size` 0, and SQLite (one connection, one
    /// writer), share this store's pool. Reads outside a transaction share sea-orm's pool.
    pub fn with_own_pool(&self, size: u32) -> Result<Self, StoreError> {
        let tx_pool = match (&self.tx_pool, size) {
            (Some(pool), 1..) => Some(
                sibling(pool, size, 1)
                    .map_err(|e| store_err(DbErr::Conn(RuntimeErr::SqlxError(e))))?,
            ),
            _ => self.tx_pool.clone(),
        };
        Ok(Self {
            db: self.db.clone(),
            tx_pool,
        })
    }

    /// This store with its transactions' connections split into `shards` shards, one per
    /// single-threaded runtime that serves requests (actix-web's workers), so that a
    /// connection stays with the thread that opened it (`crate::sharded_pool`, ADR 028). The
    /// total stays as configured. On SQLite, or with `shards` below 2, the store is returned
    /// as it is.
    pub fn sharded_by_thread(self, shards: usize) -> Result<Self, StoreError> {
        match &self.tx_pool {
            Some(pool) if shards > 1 => Ok(Self {
                tx_pool: Some(
                    sibling(pool, pool.status().max_size as u32, shards)
                        .map_err(|e| store_err(DbErr::Conn(RuntimeErr::SqlxError(e))))?,
                ),
                db: self.db,
            }),
            _ => Ok(self),
        }
    }

    /// Makes the calling thread borrow from shard `index` (modulo the shards) of every
    /// sharded pool first. Each HTTP worker calls it with its own index as it starts, so that
    /// no two workers share a shard because some other thread borrowed between their first
    /// borrows. Threads that never call it are numbered as they first borrow.
    pub fn bind_thread_to_shard(index: usize) {
        crate::sharded_pool::bind_thread(index);
    }

    /// How many shards the transactions' pool has (1 on SQLite).
    pub fn tx_pool_shards(&self) -> usize {
        self.tx_pool.as_ref().map_or(1, |p| p.shards())
    }

    /// Brings the schema up to date. Safe to run at every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await.map_err(store_err)?;
        // Idempotent: also covers tenant tables of migrations applied after the RLS one, and
        // forces the policies on the owner (the app) for every one of them.
        migrations::apply_forced_policies(&self.db)
            .await
            .map_err(store_err)
    }

    /// A transaction on a live connection (see [`retrying_broken`](Self::retrying_broken)),
    /// with `settings` (`SET LOCAL …`, no parameters) run in the same round trip on
    /// PostgreSQL; SQLite has no settings to make.
    pub(crate) async fn begin(&self, settings: String) -> Result<Tx, StoreError> {
        match &self.tx_pool {
            Some(pool) => {
                // A connection that died idle fails at `BEGIN`, before anything ran, and
                // leaves the pool; each such one is passed over, at most once per slot.
                let attempts = pool.status().max_size as u32 + 1;
                retry_broken(attempts, || Tx::begin_postgres(pool, &settings)).await
            }
            None => {
                self.retrying_broken(async |db| db.begin().await.map(Tx::from))
                    .await
            }
        }
    }

    /// Runs `f` on the pool, and again if it met a connection the server had closed. Pooled
    /// connections are not tested before use, so one that died while idle (a restart, a
    /// terminated backend) fails on first use; each such connection is dropped and `f` runs
    /// again, at most once per pooled connection. Only for what may safely run twice: `BEGIN`,
    /// reads, and writes of absolute values.
    pub(crate) async fn retrying_broken<T>(
        &self,
        f: impl AsyncFn(&DatabaseConnection) -> Result<T, DbErr>,
    ) -> Result<T, StoreError> {
        let attempts = match &self.db {
            DatabaseConnection::SqlxPostgresPoolConnection(_) => {
                self.db
                    .get_postgres_connection_pool()
                    .options()
                    .get_max_connections()
                    + 1
            }
            _ => 1,
        };
        retry_broken(attempts, || f(&self.db)).await
    }

    /// A transaction confined to `tenant`: on PostgreSQL it sets `app.tenant_id` for this
    /// transaction only, so row-level security admits only the tenant's rows, in the same
    /// round trip as `BEGIN`.
    pub(crate) async fn begin_tenant(&self, tenant: kernel::TenantId) -> Result<Tx, StoreError> {
        // A UUID's text is hex digits and hyphens: nothing in it can leave the quotes.
        // `SET LOCAL` rather than `SELECT set_config(…, true)`, which does the same: a utility
        // statement is not analysed, planned or run through the executor (`docs/adr/023`).
        let setting = format!(
            "SET LOCAL app.tenant_id = '{}'",
            tenant.into_uuid().hyphenated()
        );
        self.begin(setting).await
    }

    /// A transaction that deliberately sees every tenant (`app.bypass_rls`): only for
    /// background work across tenants (outbox relay, webhook dispatch) and log-in look-ups.
    pub(crate) async fn begin_all_tenants(&self) -> Result<Tx, StoreError> {
        self.begin(SEE_ALL_TENANTS.to_owned()).await
    }

    /// Runs `f` in a [`begin_tenant`](Self::begin_tenant) transaction and commits: every
    /// tenant-scoped read and write that is not part of a unit of work goes through here, so
    /// row-level security admits only `tenant`'s rows. `f` must use only `tx` (SQLite has one
    /// connection: acquiring another while this transaction is open would deadlock).
    pub(crate) async fn in_tenant<T, E: From<StoreError>>(
        &self,
        tenant: kernel::TenantId,
        f: impl AsyncFnOnce(&Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.begin_tenant(tenant).await?;
        let out = f(&tx).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(out)
    }

    /// Runs `f` in a [`begin_all_tenants`](Self::begin_all_tenants) transaction and commits.
    /// Each caller says in one line why it must see every tenant.
    pub(crate) async fn across_tenants<T, E: From<StoreError>>(
        &self,
        f: impl AsyncFnOnce(&Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.begin_all_tenants().await?;
        let out = f(&tx).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(out)
    }

    /// Readiness: can we run a query right now?
    pub async fn ping(&self) -> Result<(), StoreError> {
        // A pooled connection that died idle is not the database being down.
        self.retrying_broken(async |db| db.ping().await).await
    }

    pub fn backend(&self) -> &'static str {
        match self.db.get_database_backend() {
            DatabaseBackend::Postgres => "postgres",
            DatabaseBackend::Sqlite => "sqlite",
            DatabaseBackend::MySql => "mysql",
        }
    }

    /// What sea-orm's pool (reads outside a transaction, and all of SQLite's work) holds now.
    pub fn reads_pool_use(&self) -> PoolUse {
        match self.db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                PoolUse {
                    open: pool.size() as usize,
                    idle: pool.num_idle(),
                    max: pool.options().get_max_connections() as usize,
                    // sqlx does not count its waiters.
                    waiting: None,
                }
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                PoolUse {
                    open: pool.size() as usize,
                    idle: pool.num_idle(),
                    max: pool.options().get_max_connections() as usize,
                    waiting: None,
                }
            }
        }
    }

    /// What this store's transactions' pool holds now, over all its shards; `None` on SQLite,
    /// whose transactions run on [`reads_pool_use`](Self::reads_pool_use)'s one connection.
    /// A store from [`with_own_pool`](Self::with_own_pool) reports its own pool here.
    pub fn transactions_pool_use(&self) -> Option<PoolUse> {
        self.tx_pool.as_ref().map(|pool| {
            let s = pool.status();
            PoolUse {
                open: s.size,
                idle: s.available,
                max: s.max_size,
                waiting: Some(s.waiting),
            }
        })
    }

    pub async fn close(self) -> Result<(), StoreError> {
        if let Some(pool) = &self.tx_pool {
            // Idle connections say goodbye to the server; lent ones close as they come back.
            for pooled in pool.close() {
                let _ = sqlx::Connection::close(pooled.conn).await;
            }
        }
        self.db.close().await.map_err(store_err)
    }

    /// The underlying connection, for tests and operational commands only; application code
    /// goes through the ports.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Runs a statement with no result; for tests and operational commands.
    pub async fn execute_unprepared(&self, sql: &str) -> Result<(), StoreError> {
        self.db
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(store_err)
    }
}

/// Runs `f` up to `attempts` times while it fails on a connection the server had closed.
// A closure returning a future, not an async closure: those make the callers' futures not
// `Send` when they capture references.
async fn retry_broken<T, F: Future<Output = Result<T, DbErr>>>(
    attempts: u32,
    mut f: impl FnMut() -> F,
) -> Result<T, StoreError> {
    let mut tried = 1;
    loop {
        match f().await {
            Ok(out) => return Ok(out),
            Err(e) if tried < attempts && is_broken_connection(&e) => {
                tracing::info!(error = %e, "a pooled connection was closed while idle; taking another");
                tried += 1;
            }
            Err(e) => return Err(store_err(e)),
        }
    }
}

/// The connection itself is gone (the socket, or the server ended the session), as opposed
/// to a statement that failed on a live connection.
fn is_broken_connection(e: &DbErr) -> bool {
    let sqlx = match e {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Class 08: connection exception; 57P01-57P03: the server is shutting down or the
        // backend was terminated.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}
