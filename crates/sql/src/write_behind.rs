//! Write-behind for a unit of work: the writes it makes after its last read travel to
//! PostgreSQL together, in one round trip, instead of one round trip each.
//!
//! Placing an order reads (locks its stock rows), then writes seven or more statements: the
//! stock updates, allocations, movements, the order, its lines, its history and its outbox
//! event. On a busy machine each round trip costs a wake-up on both sides; sending the writes
//! together at commit cuts them to one (see `docs/adr/016`).
//!
//! On PostgreSQL the writes become one statement, each a data-modifying `WITH` part, with
//! bound parameters: a prepared statement that sqlx caches per connection, so PostgreSQL
//! neither parses nor (after a few runs) plans it again, and no value is ever written into
//! the SQL text. The parts run on one snapshot and must not touch the same row twice, so a
//! unit of work defers at most one update per row (`add_reservations` merges its lines).
//!
//! Correctness rests on one rule: **every read flushes first** ([`Buffered::conn`]), so a unit
//! of work always reads its own writes. Deferred writes are ones whose result is not needed:
//! inserts, and stock updates whose guard is the table's own `CHECK (reserved <= on_hand)`.
//! On SQLite (in-process, no round trips) the statements run one by one.

use crate::store_err;
use kernel::StoreError;
use sea_orm::sea_query::{InsertStatement, PostgresQueryBuilder, SqlWriterValues, UpdateStatement};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, Statement};
use std::fmt::Write as _;

/// A statement whose result nobody waits for.
#[derive(Debug)]
pub(crate) enum Write {
    Insert(InsertStatement),
    Update(UpdateStatement),
}

impl From<InsertStatement> for Write {
    fn from(s: InsertStatement) -> Self {
        Self::Insert(s)
    }
}

impl From<UpdateStatement> for Write {
    fn from(s: UpdateStatement) -> Self {
        Self::Update(s)
    }
}

impl Write {
    /// Appends this statement to `sql`, its parameters numbered on from the ones before.
    fn collect_postgres(&self, sql: &mut SqlWriterValues) {
        match self {
            Self::Insert(s) => s.build_collect_into(PostgresQueryBuilder, sql),
            Self::Update(s) => s.build_collect_into(PostgresQueryBuilder, sql),
        }
    }

    async fn execute(&self, tx: &DatabaseTransaction) -> Result<(), DbErr> {
        let backend = tx.get_database_backend();
        let statement = match self {
            Self::Insert(s) => backend.build(s),
            Self::Update(s) => backend.build(s),
        };
        tx.execute(statement).await.map(|_| ())
    }
}

/// Where the stock-ledger helpers send their writes: straight to a transaction, or into a
/// [`Buffered`] one. Both give reads a connection that has seen every earlier write.
pub(crate) trait LedgerConn: Send {
    /// The transaction, once every pending write has been sent.
    fn conn(&mut self) -> impl Future<Output = Result<&DatabaseTransaction, StoreError>> + Send;
    /// Sends `write` now or with the next flush.
    fn write(&mut self, write: Write) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl LedgerConn for DatabaseTransaction {
    async fn conn(&mut self) -> Result<&DatabaseTransaction, StoreError> {
        Ok(self)
    }

    async fn write(&mut self, write: Write) -> Result<(), StoreError> {
        write.execute(self).await.map_err(store_err)
    }
}

/// A transaction that holds its writes back until the next read or the commit.
pub(crate) struct Buffered {
    tx: DatabaseTransaction,
    pending: Vec<Write>,
}

impl Buffered {
    pub(crate) fn new(tx: DatabaseTransaction) -> Self {
        Self {
            tx,
            pending: Vec::new(),
        }
    }

    /// Sends every pending write: on PostgreSQL as one multi-statement query.
    pub(crate) async fn flush(&mut self) -> Result<(), DbErr> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        if self.tx.get_database_backend() != DatabaseBackend::Postgres || pending.len() == 1 {
            for write in &pending {
                write.execute(&self.tx).await?;
            }
            return Ok(());
        }
        let mut sql = SqlWriterValues::new("$", true);
        for (i, write) in pending.iter().enumerate() {
            let _ = write!(sql, "{} w{i} AS (", if i == 0 { "WITH" } else { "," });
            write.collect_postgres(&mut sql);
            let _ = write!(sql, ")");
        }
        let _ = write!(sql, " SELECT 1");
        let (text, values) = sql.into_parts();
        self.tx
            .execute(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                text,
                values,
            ))
            .await?;
        Ok(())
    }

    /// Flushes, then commits. A write that fails fails the commit with its own error, so
    /// callers can still tell a unique-key conflict from anything else.
    pub(crate) async fn commit(mut self) -> Result<(), DbErr> {
        self.flush().await?;
        self.tx.commit().await
    }
}

impl LedgerConn for Buffered {
    async fn conn(&mut self) -> Result<&DatabaseTransaction, StoreError> {
        self.flush().await.map_err(store_err)?;
        Ok(&self.tx)
    }

    async fn write(&mut self, write: Write) -> Result<(), StoreError> {
        self.pending.push(write);
        Ok(())
    }
}
