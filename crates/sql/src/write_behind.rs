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
//!
//! The writes are rendered here rather than through sea-query's statement builder: they run
//! on every order, and building them as expression trees and walking those per request cost
//! more of the app's CPU than anything else it does for an order (`docs/adr/021`).

use crate::store_err;
use crate::tx::Tx;
use kernel::StoreError;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityName, EntityTrait, IdenStatic,
    Iterable, Statement, Value,
};

mod render;
pub(crate) use render::{InsertRows, ReserveStock};

/// A statement whose result nobody waits for.
#[derive(Debug)]
pub(crate) enum Write {
    Insert(InsertRows),
    Reserve(ReserveStock),
}

impl From<InsertRows> for Write {
    fn from(s: InsertRows) -> Self {
        Self::Insert(s)
    }
}

impl From<ReserveStock> for Write {
    fn from(s: ReserveStock) -> Self {
        Self::Reserve(s)
    }
}

impl Write {
    /// Appends this statement's SQL to `sql`, its parameters numbered on from `values`' length,
    /// and its values to `values`.
    fn render_into(self, backend: DatabaseBackend, sql: &mut String, values: &mut Vec<Value>) {
        match self {
            Self::Insert(s) => s.render_into(backend, sql, values),
            Self::Reserve(s) => s.render_into(backend, sql, values),
        }
    }

    /// This write alone, as a statement for `backend`.
    pub(crate) fn statement(self, backend: DatabaseBackend) -> Statement {
        let mut sql = String::new();
        let mut values = Vec::new();
        self.render_into(backend, &mut sql, &mut values);
        Statement::from_sql_and_values(backend, sql, values)
    }

    async fn execute(self, tx: &Tx) -> Result<(), DbErr> {
        let statement = self.statement(tx.get_database_backend());
        tx.execute(statement).await.map(|_| ())
    }
}

/// The rows of `models` as one insert, every column the first model sets; `None` for no rows.
/// Values are moved out of the models, not cloned (an event's payload is among them). Every
/// model must set the same columns; one that leaves a column unset gets a NULL for it.
pub(crate) fn insert_rows<A>(models: impl IntoIterator<Item = A>) -> Option<InsertRows>
where
    A: ActiveModelTrait,
{
    let mut models = models.into_iter();
    let mut first = models.next()?;
    let mut columns = Vec::new();
    let mut row = Vec::new();
    for column in <<A::Entity as EntityTrait>::Column as Iterable>::iter() {
        if let Some(value) = first.take(column).into_value() {
            columns.push(column);
            row.push(value);
        }
    }
    let mut insert = InsertRows::new(
        <A::Entity as Default>::default().table_name(),
        columns.iter().map(|c| c.as_str()),
    );
    insert.push_row(row);
    for mut model in models {
        insert.push_row(
            columns
                .iter()
                .map(|c| model.take(*c).into_value().unwrap_or(Value::String(None))),
        );
    }
    Some(insert)
}

/// Where the stock-ledger helpers send their writes: straight to a transaction, or into a
/// [`Buffered`] one. Both give reads a connection that has seen every earlier write.
pub(crate) trait LedgerConn: Send {
    /// The transaction, once every pending write has been sent.
    fn conn(&mut self) -> impl Future<Output = Result<&Tx, StoreError>> + Send;
    /// Sends `write` now or with the next flush.
    fn write(&mut self, write: Write) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl LedgerConn for Tx {
    async fn conn(&mut self) -> Result<&Tx, StoreError> {
        Ok(self)
    }

    async fn write(&mut self, write: Write) -> Result<(), StoreError> {
        write.execute(self).await.map_err(store_err)
    }
}

/// A transaction that holds its writes back until the next read or the commit.
pub(crate) struct Buffered {
    tx: Tx,
    pending: Vec<Write>,
}

impl Buffered {
    pub(crate) fn new(tx: Tx) -> Self {
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
        let backend = self.tx.get_database_backend();
        if backend != DatabaseBackend::Postgres || pending.len() == 1 {
            for write in pending {
                write.execute(&self.tx).await?;
            }
            return Ok(());
        }
        let mut sql = String::with_capacity(4096);
        let mut values = Vec::with_capacity(64);
        for (i, write) in pending.into_iter().enumerate() {
            sql.push_str(if i == 0 { "WITH w" } else { ", w" });
            sql.push_str(itoa::Buffer::new().format(i));
            sql.push_str(" AS (");
            write.render_into(backend, &mut sql, &mut values);
            sql.push(')');
        }
        sql.push_str(" SELECT 1");
        self.tx
            .execute(Statement::from_sql_and_values(backend, sql, values))
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
    async fn conn(&mut self) -> Result<&Tx, StoreError> {
        self.flush().await.map_err(store_err)?;
        Ok(&self.tx)
    }

    async fn write(&mut self, write: Write) -> Result<(), StoreError> {
        self.pending.push(write);
        Ok(())
    }
}
