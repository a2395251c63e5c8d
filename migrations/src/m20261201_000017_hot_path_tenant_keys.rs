//! Drops the foreign key to `tenants` from the tables every order writes to.
//!
//! A foreign-key check locks the parent row `FOR KEY SHARE`. Every order of a tenant writes
//! 4–8 such rows, so all of its concurrent orders lock the one `tenants` row together, and
//! PostgreSQL records each new locker by copying the row's whole list of lockers into a new
//! multixact: work that grows with concurrency, on the hot path (`make bench`, docs/adr/017).
//! These rows' `tenant_id` is already bound to an authenticated, existing tenant by the forced
//! row-level security's `WITH CHECK`, so the key guarded nothing the policy does not.
//! PostgreSQL only: SQLite has one writer, so no lockers pile up, and it cannot drop a key
//! without rebuilding the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables an order placement, its lifecycle or its notifications append to.
pub const HOT_PATH_TABLES: [&str; 6] = [
    "orders",
    "order_status_history",
    "stock_movements",
    "stock_allocations",
    "idempotency_records",
    "notification_log",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        for table in HOT_PATH_TABLES {
            m.get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_tenant_id_fkey"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        for table in HOT_PATH_TABLES {
            m.get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {table}_tenant_id_fkey \
                     FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE"
                ))
                .await?;
        }
        Ok(())
    }
}
