//! The schema, as forward-only migrations that run unchanged on PostgreSQL and SQLite.
//! Run by `tote migrate`, and at start-up of the embedded default.
//!
//! Portable types only: money is BIGINT minor units (a `decimal` would be a float on SQLite),
//! ids are UUIDs, times are UTC timestamps.

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261123_000001_foundation;
mod m20261123_000002_event_delivery;
mod m20261123_000003_webhooks;
mod m20261123_000004_inventory_locations;
mod m20261123_000005_identity;
mod m20261123_000006_row_level_security;
mod m20261123_000007_order_lifecycle;
mod m20261123_000008_notifications;
mod m20261123_000009_returns;
mod m20261123_000010_event_traceparent;
mod m20261201_000011_force_row_level_security;
mod m20261201_000012_shipping_labels;
mod m20261201_000013_floor_locations;
mod m20261201_000014_pick_pack;
mod m20261201_000015_receiving_counts_qc;
mod m20261201_000016_session_check;
mod m20261201_000017_hot_path_tenant_keys;
mod m20261204_000018_partial_email_index;

// m20261123_000007..9 call `crate::apply_policies` (the 000006 one: policies, not forced) and
// keep doing so; `SqlStore::migrate` re-applies the forced form after every run.
pub(crate) use m20261123_000006_row_level_security::apply_policies;
pub use m20261201_000011_force_row_level_security::{
    FORCE_POLICIES, apply_policies as apply_forced_policies, bypass_rls,
};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_event_delivery::Migration),
            Box::new(m20261123_000003_webhooks::Migration),
            Box::new(m20261123_000004_inventory_locations::Migration),
            Box::new(m20261123_000005_identity::Migration),
            // Covers every tenant table created before it; later migrations call
            // `apply_policies` themselves.
            Box::new(m20261123_000006_row_level_security::Migration),
            Box::new(m20261123_000007_order_lifecycle::Migration),
            Box::new(m20261123_000008_notifications::Migration),
            Box::new(m20261123_000009_returns::Migration),
            Box::new(m20261123_000010_event_traceparent::Migration),
            // The policies bind the tables' owner (the app) too; later migrations call
            // `apply_forced_policies` for new tenant tables and `bypass_rls` before moving data.
            Box::new(m20261201_000011_force_row_level_security::Migration),
            Box::new(m20261201_000012_shipping_labels::Migration),
            Box::new(m20261201_000013_floor_locations::Migration),
            Box::new(m20261201_000014_pick_pack::Migration),
            Box::new(m20261201_000015_receiving_counts_qc::Migration),
            Box::new(m20261201_000016_session_check::Migration),
            Box::new(m20261201_000017_hot_path_tenant_keys::Migration),
            Box::new(m20261204_000018_partial_email_index::Migration),
        ]
    }
}
