//! Returns (RMA): one row per return, its lines and exchange items as JSON (a return is read
//! and written whole), its status, the refund record and the linked replacement order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Returns {
    Table,
    Id,
    TenantId,
    OrderId,
    RmaNumber,
    Status,
    Lines,
    Exchange,
    ReplacementOrderId,
    RejectionReason,
    RefundMinor,
    RefundCurrency,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Returns::Table)
                .col(uuid(Returns::Id).primary_key())
                .col(uuid(Returns::TenantId))
                .col(uuid(Returns::OrderId))
                .col(string(Returns::RmaNumber))
                .col(string(Returns::Status))
                .col(json_binary(Returns::Lines))
                .col(json_binary(Returns::Exchange))
                .col(uuid_null(Returns::ReplacementOrderId))
                .col(text_null(Returns::RejectionReason))
                .col(big_integer_null(Returns::RefundMinor))
                .col(string_null(Returns::RefundCurrency))
                .col(big_integer(Returns::Version))
                .col(timestamp_with_time_zone(Returns::CreatedAt))
                .col(timestamp_with_time_zone(Returns::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Returns::Table, Returns::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_returns_tenant_rma")
                .table(Returns::Table)
                .col(Returns::TenantId)
                .col(Returns::RmaNumber)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_returns_tenant_order")
                .table(Returns::Table)
                .col(Returns::TenantId)
                .col(Returns::OrderId)
                .to_owned(),
        )
        .await?;
        crate::apply_policies(m.get_connection()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
