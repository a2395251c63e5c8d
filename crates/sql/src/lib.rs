//! The SQL adapter: implements the domain ports over sea-orm, for PostgreSQL (production) and
//! SQLite (the embedded default), with the same code and the same migrations.
//!
//! Owns table models ([`entities`]), the mapping between rows and domain types, and the units
//! of work that make an order, its stock reservations and its outbox events commit together.
//! It turns driver errors into business errors (a unique-key violation becomes `DuplicateSku`).
//! It must never hold a business rule: it stores what the domain decided.

mod audit;
pub mod entities;
mod events;
pub mod floor_entities;
pub mod floor_inbound;
mod identity;
mod inventory;
mod inventory_tx;
mod labels;
mod notifications;
mod order_queries;
mod orders;
mod outbox;
mod pg_pool;
pub mod pick_pack;
mod returns;
mod routing;
mod sharded_pool;
mod stock;
mod stock_ledger;
mod store;
mod tx;
mod webhooks;
mod write_behind;

pub use audit::EXPORT_SECTIONS;
pub use events::{DeadLetter, InboxTx, RelayRound};
pub use outbox::OutboxRow;
pub use pick_pack::{BinHolding, OrderAllocation, PutAwayFailure};
pub use store::{PoolUse, SqlConfig, SqlStore};
pub use webhooks::{Delivery, DueDelivery};

use kernel::StoreError;
use sea_orm::{DbErr, SqlErr};

pub(crate) fn store_err(e: DbErr) -> StoreError {
    StoreError::from_source(e)
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
