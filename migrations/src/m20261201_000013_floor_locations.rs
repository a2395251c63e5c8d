//! The warehouse floor's shared ground: bins with their walk order, which SKU sits in which
//! bin (and how many), each tenant's box catalogue, and floor tasks (pick, pack, put-away,
//! count, QC). Bin stock is where units are inside a warehouse; the warehouse's stock level
//! stays the count of record.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Bins {
    Table,
    Id,
    TenantId,
    WarehouseId,
    Code,
    Zone,
    WalkOrder,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum BinStock {
    Table,
    TenantId,
    BinId,
    Sku,
    Quantity,
    Preferred,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Boxes {
    Table,
    TenantId,
    Code,
    LengthMm,
    WidthMm,
    HeightMm,
    MaxWeightG,
    CostMinor,
    Currency,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WarehouseTasks {
    Table,
    Id,
    TenantId,
    WarehouseId,
    Kind,
    Status,
    Reference,
    Assignee,
    ShipBy,
    CreatedAt,
    StartedAt,
    CompletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Bins::Table)
                .col(uuid(Bins::Id).primary_key())
                .col(uuid(Bins::TenantId))
                .col(uuid(Bins::WarehouseId))
                .col(string(Bins::Code))
                .col(string(Bins::Zone))
                .col(big_integer(Bins::WalkOrder))
                .col(timestamp_with_time_zone(Bins::CreatedAt))
                .foreign_key(&mut crate::common::cascade_to_tenant(
                    Bins::Table,
                    Bins::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_bins_tenant_warehouse_code")
                .table(Bins::Table)
                .col(Bins::TenantId)
                .col(Bins::WarehouseId)
                .col(Bins::Code)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BinStock::Table)
                .col(uuid(BinStock::TenantId))
                .col(uuid(BinStock::BinId))
                .col(string(BinStock::Sku))
                .col(big_integer(BinStock::Quantity).check(Expr::col(BinStock::Quantity).gte(0)))
                .col(boolean(BinStock::Preferred))
                .col(timestamp_with_time_zone(BinStock::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(BinStock::TenantId)
                        .col(BinStock::BinId)
                        .col(BinStock::Sku),
                )
                .foreign_key(&mut crate::common::cascade_to_tenant(
                    BinStock::Table,
                    BinStock::TenantId,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(BinStock::Table, BinStock::BinId)
                        .to(Bins::Table, Bins::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_bin_stock_tenant_sku")
                .table(BinStock::Table)
                .col(BinStock::TenantId)
                .col(BinStock::Sku)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Boxes::Table)
                .col(uuid(Boxes::TenantId))
                .col(string(Boxes::Code))
                .col(big_integer(Boxes::LengthMm))
                .col(big_integer(Boxes::WidthMm))
                .col(big_integer(Boxes::HeightMm))
                .col(big_integer(Boxes::MaxWeightG))
                .col(big_integer(Boxes::CostMinor))
                .col(string(Boxes::Currency))
                .col(timestamp_with_time_zone(Boxes::CreatedAt))
                .primary_key(Index::create().col(Boxes::TenantId).col(Boxes::Code))
                .foreign_key(&mut crate::common::cascade_to_tenant(
                    Boxes::Table,
                    Boxes::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WarehouseTasks::Table)
                .col(uuid(WarehouseTasks::Id).primary_key())
                .col(uuid(WarehouseTasks::TenantId))
                .col(uuid(WarehouseTasks::WarehouseId))
                .col(string(WarehouseTasks::Kind))
                .col(string(WarehouseTasks::Status))
                .col(string(WarehouseTasks::Reference))
                .col(string_null(WarehouseTasks::Assignee))
                .col(timestamp_with_time_zone_null(WarehouseTasks::ShipBy))
                .col(timestamp_with_time_zone(WarehouseTasks::CreatedAt))
                .col(timestamp_with_time_zone_null(WarehouseTasks::StartedAt))
                .col(timestamp_with_time_zone_null(WarehouseTasks::CompletedAt))
                .foreign_key(&mut crate::common::cascade_to_tenant(
                    WarehouseTasks::Table,
                    WarehouseTasks::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_warehouse_tasks_queue",
                vec![
                    WarehouseTasks::TenantId,
                    WarehouseTasks::Status,
                    WarehouseTasks::ShipBy,
                ],
            ),
            (
                "ix_warehouse_tasks_assignee",
                vec![WarehouseTasks::TenantId, WarehouseTasks::Assignee],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WarehouseTasks::Table);
            for col in cols {
                index.col(col);
            }
            m.create_index(index.to_owned()).await?;
        }
        crate::apply_forced_policies(m.get_connection()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
