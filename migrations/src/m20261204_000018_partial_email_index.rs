//! Indexes only the orders that carry a customer e-mail.
//!
//! The index serves one look-up, orders by a customer's e-mail (the order list's filter and
//! the erasure of a customer's data), and that look-up never asks for a missing e-mail. Many
//! orders have none (marketplaces withhold it), and each of those still paid for an index
//! entry on the order path; partial, the index skips them. Both PostgreSQL and SQLite plan an
//! equality on the column with a partial index whose predicate is `IS NOT NULL`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_orders_tenant_email";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {INDEX} ON orders (tenant_id, customer_email) \
             WHERE customer_email IS NOT NULL"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {INDEX} ON orders (tenant_id, customer_email)"
        ))
        .await?;
        Ok(())
    }
}
