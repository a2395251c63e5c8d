//! Write-behind for a unit of work: the writes it makes after its last read travel to
//! PostgreSQL together, in one round trip, instead of one round trip each.
//!
//! Placing an order reads (locks its stock rows), then writes seven or more statements: the
//! stock updates, allocations, movements, the order, its lines, its history and its outbox
//! event. On a busy machine each round trip costs a wake-up on both sides; sending the writes
//! as one multi-statement simple query at commit cut them to one (see `docs/BENCHMARKS.md`).
//!
//! Correctness rests on one rule: **every read flushes first** ([`Buffered::conn`]), so a unit
//! of work always reads its own writes. Deferred writes are ones whose result is not needed:
//! inserts, and stock updates whose guard is the table's own `CHECK (reserved <= on_hand)`.
//! On SQLite (in-process, no round trips) the statements run one by one with bound values.

use crate::store_err;
use kernel::StoreError;
use sea_orm::sea_query::{InsertStatement, PostgresQueryBuilder, UpdateStatement};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr};

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
    /// PostgreSQL text with the values inlined by sea-query's escaping (`E'…'` whenever a
    /// backslash is involved), for the simple-query protocol, which takes no parameters.
    fn inline_postgres(&self) -> String {
        match self {
            Self::Insert(s) => s.to_string(PostgresQueryBuilder),
            Self::Update(s) => s.to_string(PostgresQueryBuilder),
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
        if self.tx.get_database_backend() == DatabaseBackend::Postgres {
            let sql: Vec<String> = pending.iter().map(Write::inline_postgres).collect();
            self.tx.execute_unprepared(&sql.join(";\n")).await?;
        } else {
            for write in &pending {
                write.execute(&self.tx).await?;
            }
        }
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
