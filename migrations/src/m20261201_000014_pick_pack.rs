//! Pick and pack: pick lists (lines in walk order, progress, applied scan ids) and pack
//! sessions (expected units, scans, box and weight), each stored as a JSON body with a
//! version, beside the columns that are queried (tenant, warehouse or order, status).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum PickLists {
    Table,
    Id,
    TenantId,
    WarehouseId,
    Status,
    Body,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PackSessions {
    Table,
    Id,
    TenantId,
    OrderId,
    Status,
    Body,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
}

fn to_tenants(
    table: impl IntoIden + Clone + 'static,
    col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PickLists::Table)
                .col(uuid(PickLists::Id).primary_key())
                .col(uuid(PickLists::TenantId))
                .col(uuid(PickLists::WarehouseId))
                .col(string(PickLists::Status))
                .col(json_binary(PickLists::Body))
                .col(big_integer(PickLists::Version))
                .col(timestamp_with_time_zone(PickLists::CreatedAt))
                .col(timestamp_with_time_zone(PickLists::UpdatedAt))
                .foreign_key(&mut to_tenants(PickLists::Table, PickLists::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pick_lists_tenant_status")
                .table(PickLists::Table)
                .col(PickLists::TenantId)
                .col(PickLists::Status)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PackSessions::Table)
                .col(uuid(PackSessions::Id).primary_key())
                .col(uuid(PackSessions::TenantId))
                .col(uuid(PackSessions::OrderId))
                .col(string(PackSessions::Status))
                .col(json_binary(PackSessions::Body))
                .col(big_integer(PackSessions::Version))
                .col(timestamp_with_time_zone(PackSessions::CreatedAt))
                .col(timestamp_with_time_zone(PackSessions::UpdatedAt))
                .foreign_key(&mut to_tenants(PackSessions::Table, PackSessions::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pack_sessions_tenant_order")
                .table(PackSessions::Table)
                .col(PackSessions::TenantId)
                .col(PackSessions::OrderId)
                .to_owned(),
        )
        .await?;
        crate::apply_policies(m.get_connection()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
