//! PostgreSQL housekeeping: the admin connection, scratch databases, raw connections for COPY
//! and checks. Scratch databases use the test prefix, so `make clean-test-dbs` removes any an
//! interrupted run leaves behind.

use crate::error::{Context, Result};
use sea_orm::sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sea_orm::sqlx::{self, Connection};
use std::time::Duration;

/// Where scratch databases are created. Same variable and default as the tests.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The URL of database `name` on the admin server.
pub fn url_for(admin_url: &str, name: &str) -> String {
    let (base, rest) = admin_url
        .rsplit_once('/')
        .unwrap_or((admin_url, "postgres"));
    match rest.split_once('?') {
        Some((_, query)) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// A small pool on `url`, with an error that says how to get PostgreSQL running.
pub async fn pool(url: &str, size: u32) -> Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .context(|| {
            format!(
                "cannot reach PostgreSQL at {} — is it running? Start it with `make services`, \
                 or point TEST_DATABASE_URL at a server where user postgres can create databases",
                redact(url)
            )
        })
}

/// One raw connection (for COPY).
pub async fn connect(url: &str) -> Result<PgConnection> {
    PgConnection::connect(url)
        .await
        .context(|| format!("cannot connect to {}", redact(url)))
}

/// The URL without a password, for messages.
pub fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_owned(),
    }
}

pub async fn exists(admin: &PgPool, name: &str) -> Result<bool> {
    let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(admin)
        .await
        .context(|| format!("looking for database {name}"))?;
    Ok(found.is_some())
}

/// `CHECKPOINT`, as the superuser, right before a measured run: the run then starts a
/// checkpoint cycle of its own, instead of running under one that the runs before it set going
/// (its background writes, and a full-page image in the WAL for each page first changed after
/// it began). pgbench at scale 64 writes one for most of its updates, and fills the WAL fast
/// enough to start a checkpoint every minute or so here (`max_wal_size` 1 GB).
pub async fn checkpoint(admin: &PgPool) -> Result<()> {
    sqlx::raw_sql("CHECKPOINT")
        .execute(admin)
        .await
        .context(|| "CHECKPOINT before a measured run".to_owned())?;
    Ok(())
}

pub async fn drop_database(admin: &PgPool, name: &str) -> Result<()> {
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(admin)
        .await
        .context(|| format!("dropping database {name}"))?;
    Ok(())
}

/// The role the app connects as: owner of its database but neither superuser nor
/// `BYPASSRLS`, as in production, so the forced row-level security binds it (a superuser
/// would skip every policy and flatter the numbers).
pub const APP_ROLE: &str = "tote_bench_app";

/// Creates [`APP_ROLE`] unless it exists (roles are cluster-wide).
pub async fn ensure_app_role(admin: &PgPool) -> Result<()> {
    sqlx::raw_sql(&format!(
        "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .execute(admin)
    .await
    .context(|| format!("creating role {APP_ROLE}"))?;
    Ok(())
}

/// `url` with its user replaced by [`APP_ROLE`] (trust authentication, as on this machine;
/// elsewhere set TEST_DATABASE_URL to a server that lets the role in).
pub fn as_app_role(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{APP_ROLE}@{host}"),
        _ => url.to_owned(),
    }
}

/// A database of our own for one scenario, dropped by [`Scratch::drop`].
pub struct Scratch {
    pub name: String,
    /// As the server's superuser: for pgbench and for reading the results past RLS.
    pub url: String,
    /// As [`APP_ROLE`], which owns the database: what the app connects with.
    pub app_url: String,
}

impl Scratch {
    pub async fn create(admin: &PgPool, what: &str) -> Result<Self> {
        let name = format!(
            "tote_t_bench_{what}_{}",
            &uuid::Uuid::now_v7().simple().to_string()[20..]
        );
        ensure_app_role(admin).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name} OWNER {APP_ROLE}"))
            .execute(admin)
            .await
            .context(|| format!("creating database {name}"))?;
        let url = url_for(&admin_url(), &name);
        Ok(Self {
            app_url: as_app_role(&url),
            url,
            name,
        })
    }

    pub async fn drop(self, admin: &PgPool) -> Result<()> {
        drop_database(admin, &self.name).await
    }
}

/// Waits (at most 30 s) until no session is connected to database `name`.
pub async fn wait_disconnected(admin: &PgPool, name: &str) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
                .bind(name)
                .fetch_one(admin)
                .await
                .context(|| format!("counting sessions on {name}"))?;
        if n == 0 {
            return Ok(());
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            return Err(format!("{n} sessions still connected to {name} after 30 s").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A server setting, as `SHOW name` prints it.
pub async fn setting(pool: &PgPool, name: &str) -> Result<String> {
    let (value,): (String,) = sqlx::query_as("SELECT current_setting($1)")
        .bind(name)
        .fetch_one(pool)
        .await
        .context(|| format!("SHOW {name}"))?;
    Ok(value)
}
