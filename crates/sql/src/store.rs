use crate::store_err;
use kernel::StoreError;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, Statement, TransactionTrait,
};
use std::time::Duration;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct SqlConfig {
    /// `postgres://...` or `sqlite://path?mode=rwc` / `sqlite::memory:`.
    pub url: String,
    /// PostgreSQL pool size. SQLite always uses one connection: it has one writer anyway, and a
    /// single connection avoids "database is locked" on read-then-write transactions.
    pub max_connections: u32,
}

/// One handle to the database, implementing every storage port. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) db: DatabaseConnection,
}

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
            opts.max_connections(config.max_connections.max(1))
                .min_connections(1);
        }
        let db = Database::connect(opts).await.map_err(store_err)?;
        Ok(Self { db })
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

    /// A transaction confined to `tenant`: on PostgreSQL it sets `app.tenant_id` for this
    /// transaction only, so row-level security admits only the tenant's rows (one statement).
    pub(crate) async fn begin_tenant(
        &self,
        tenant: kernel::TenantId,
    ) -> Result<DatabaseTransaction, StoreError> {
        let tx = self.db.begin().await.map_err(store_err)?;
        if tx.get_database_backend() == DatabaseBackend::Postgres {
            tx.execute(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT set_config('app.tenant_id', $1, true)",
                [tenant.into_uuid().to_string().into()],
            ))
            .await
            .map_err(store_err)?;
        }
        Ok(tx)
    }

    /// A transaction that deliberately sees every tenant (`app.bypass_rls`): only for
    /// background work across tenants (outbox relay, webhook dispatch) and log-in look-ups.
    pub(crate) async fn begin_all_tenants(&self) -> Result<DatabaseTransaction, StoreError> {
        let tx = self.db.begin().await.map_err(store_err)?;
        if tx.get_database_backend() == DatabaseBackend::Postgres {
            tx.execute_unprepared("SELECT set_config('app.bypass_rls', 'on', true)")
                .await
                .map_err(store_err)?;
        }
        Ok(tx)
    }

    /// Runs `f` in a [`begin_tenant`](Self::begin_tenant) transaction and commits: every
    /// tenant-scoped read and write that is not part of a unit of work goes through here, so
    /// row-level security admits only `tenant`'s rows. `f` must use only `tx` (SQLite has one
    /// connection: acquiring another while this transaction is open would deadlock).
    pub(crate) async fn in_tenant<T, E: From<StoreError>>(
        &self,
        tenant: kernel::TenantId,
        f: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
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
        f: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.begin_all_tenants().await?;
        let out = f(&tx).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(out)
    }

    /// Readiness: can we run a query right now?
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(store_err)
    }

    pub fn backend(&self) -> &'static str {
        match self.db.get_database_backend() {
            DatabaseBackend::Postgres => "postgres",
            DatabaseBackend::Sqlite => "sqlite",
            DatabaseBackend::MySql => "mysql",
        }
    }

    /// Open and idle connections of the pool.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self.db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }

    pub async fn close(self) -> Result<(), StoreError> {
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
