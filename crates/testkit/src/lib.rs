//! Test helpers, used only as a dev-dependency.
//!
//! [`TestDb`] gives each test its own database — a fresh PostgreSQL database on the local
//! server, or a fresh SQLite file — migrated and dropped afterwards, so tests run in parallel
//! without seeing each other's rows.

use sql::{SqlConfig, SqlStore};
use std::path::PathBuf;

/// The server tests create their databases on. Override with `TEST_DATABASE_URL`.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The role the code under test connects as on PostgreSQL: it owns its test database and runs
/// the migrations, like the app in production, but is neither superuser nor `BYPASSRLS` — so
/// the forced row-level security policies bind it, and a query that forgets its tenant sees
/// nothing (docs/adr/008). Trust authentication makes it passwordless locally.
pub const TEST_APP_ROLE: &str = "tote_app";

/// `url` with its user replaced by `user` (any password dropped).
pub fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("url has a scheme");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

/// Declares, for each named `async fn name(backend: Backend)`, a module `name` with two tests:
/// `on_postgres` and `on_sqlite`. Every storage-touching scenario runs on both databases.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_postgres() {
                super::$name($crate::Backend::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
        }
    )*};
}

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A fresh, migrated database that is removed when dropped.
pub struct TestDb {
    /// What the code under test connects with: on PostgreSQL as [`TEST_APP_ROLE`].
    pub url: String,
    pub store: SqlStore,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres { admin_url: String, name: String },
    SqliteFile(PathBuf),
}

/// All test databases start with this, so a stale one is easy to find and drop.
pub const TEST_DB_PREFIX: &str = "tote_t_";

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => Self::postgres().await,
            Backend::Sqlite => Self::sqlite().await,
        }
    }

    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("{TEST_DB_PREFIX}{}", uuid::Uuid::now_v7().simple());
        let admin = SqlStore::connect(&SqlConfig {
            url: admin_url.clone(),
            max_connections: 1,
        })
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL at {admin_url} ({e}); is it running? `make services`")
        });
        // Roles are cluster-wide: create it once, tolerate a concurrent test doing the same.
        admin
            .execute_unprepared(&format!(
                "DO $$ BEGIN CREATE ROLE {TEST_APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            ))
            .await
            .expect("create the test app role");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} OWNER {TEST_APP_ROLE}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let (base, _) = admin_url.rsplit_once('/').expect("url has a database part");
        let url = with_user(&format!("{base}/{name}"), TEST_APP_ROLE);
        let store = connect_and_migrate(&url).await;
        Self {
            url,
            store,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// The same database as the server's superuser (PostgreSQL only): for tests that create
    /// roles or look past row-level security on purpose.
    pub fn superuser_url(&self) -> Option<String> {
        match &self.cleanup {
            Cleanup::Postgres { admin_url, name } => {
                let (base, _) = admin_url.rsplit_once('/').expect("url has a database part");
                Some(format!("{base}/{name}"))
            }
            Cleanup::SqliteFile(_) => None,
        }
    }

    pub async fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!(
            "{TEST_DB_PREFIX}{}.db",
            uuid::Uuid::now_v7().simple()
        ));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = connect_and_migrate(&url).await;
        Self {
            url,
            store,
            cleanup: Cleanup::SqliteFile(path),
        }
    }
}

async fn connect_and_migrate(url: &str) -> SqlStore {
    let store = SqlStore::connect(&SqlConfig {
        url: url.to_owned(),
        max_connections: 16,
    })
    .await
    .expect("connect to test database");
    store.migrate().await.expect("migrate test database");
    store
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a fresh thread may block on its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let admin = SqlStore::connect(&SqlConfig {
                            url: admin_url,
                            max_connections: 1,
                        })
                        .await
                        .ok()?;
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await
                            .ok();
                        admin.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}
