//! Inventory across locations: warehouses (every tenant gets a default one), stock per SKU per
//! warehouse with `incoming`, movements per warehouse, kits, reservations by owner (so a cancel
//! releases exactly where it reserved), checkout holds, transfers, and product settings for
//! alerts, reorder points and valuation. Existing stock moves to each tenant's default warehouse.

use sea_orm::{ConnectionTrait, Statement, Value};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Warehouses {
    Table,
    Id,
    TenantId,
    Code,
    Name,
    Address,
    Priority,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StockLevelsNew {
    Table,
    TenantId,
    Sku,
    WarehouseId,
    OnHand,
    Reserved,
    Incoming,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StockMovements {
    Table,
    WarehouseId,
    IncomingDelta,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Active,
    LowStockThreshold,
    LeadTimeDays,
    AverageCostMinor,
    AverageCostCurrency,
}

#[derive(DeriveIden)]
enum KitComponents {
    Table,
    TenantId,
    KitSku,
    ComponentSku,
    Quantity,
}

#[derive(DeriveIden)]
enum StockAllocations {
    Table,
    TenantId,
    Owner,
    LineNo,
    Sku,
    WarehouseId,
    Quantity,
}

#[derive(DeriveIden)]
enum ReservationHolds {
    Table,
    Id,
    TenantId,
    Status,
    Lines,
    Reference,
    OrderRef,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StockTransfers {
    Table,
    Id,
    TenantId,
    FromWarehouseId,
    ToWarehouseId,
    Status,
    Lines,
    Reference,
    CreatedAt,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

fn tenant_fk<T: IntoIden + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.create_table(
            Table::create()
                .table(Warehouses::Table)
                .col(uuid(Warehouses::Id).primary_key())
                .col(uuid(Warehouses::TenantId))
                .col(string(Warehouses::Code))
                .col(string(Warehouses::Name))
                .col(json_binary_null(Warehouses::Address))
                .col(integer(Warehouses::Priority))
                .col(boolean(Warehouses::IsDefault))
                .col(timestamp_with_time_zone(Warehouses::CreatedAt))
                .foreign_key(&mut tenant_fk(Warehouses::Table, Warehouses::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_warehouses_tenant_code")
                .table(Warehouses::Table)
                .col(Warehouses::TenantId)
                .col(Warehouses::Code)
                .unique()
                .to_owned(),
        )
        .await?;
        // At most one default warehouse per tenant.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_warehouses_default ON warehouses (tenant_id) WHERE is_default",
        )
        .await?;

        // Every existing tenant gets its default warehouse, created here so ids are UUIDv7.
        let backend = db.get_database_backend();
        let tenants = db
            .query_all(Statement::from_string(backend, "SELECT id FROM tenants"))
            .await?;
        for row in tenants {
            let tenant: uuid::Uuid = row.try_get("", "id")?;
            let insert = Query::insert()
                .into_table(Warehouses::Table)
                .columns([
                    Warehouses::Id,
                    Warehouses::TenantId,
                    Warehouses::Code,
                    Warehouses::Name,
                    Warehouses::Priority,
                    Warehouses::IsDefault,
                    Warehouses::CreatedAt,
                ])
                .values_panic([
                    Value::from(uuid::Uuid::now_v7()).into(),
                    Value::from(tenant).into(),
                    "MAIN".into(),
                    "Main warehouse".into(),
                    0.into(),
                    true.into(),
                    Expr::current_timestamp().into(),
                ])
                .to_owned();
            m.exec_stmt(insert).await?;
        }

        m.create_table(
            Table::create()
                .table(StockLevelsNew::Table)
                .col(uuid(StockLevelsNew::TenantId))
                .col(string(StockLevelsNew::Sku))
                .col(uuid(StockLevelsNew::WarehouseId))
                .col(big_integer(StockLevelsNew::OnHand))
                .col(big_integer(StockLevelsNew::Reserved))
                .col(big_integer(StockLevelsNew::Incoming))
                .col(big_integer(StockLevelsNew::Version))
                .col(timestamp_with_time_zone(StockLevelsNew::UpdatedAt))
                // SKU first: an order locks its SKUs' rows in every warehouse with one range scan.
                .primary_key(
                    Index::create()
                        .col(StockLevelsNew::TenantId)
                        .col(StockLevelsNew::Sku)
                        .col(StockLevelsNew::WarehouseId),
                )
                .check(Expr::col(StockLevelsNew::Reserved).gte(0))
                .check(Expr::col(StockLevelsNew::Incoming).gte(0))
                .check(Expr::col(StockLevelsNew::Reserved).lte(Expr::col(StockLevelsNew::OnHand)))
                .foreign_key(&mut tenant_fk(
                    StockLevelsNew::Table,
                    StockLevelsNew::TenantId,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(StockLevelsNew::Table, StockLevelsNew::WarehouseId)
                        .to(Warehouses::Table, Warehouses::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO stock_levels_new \
               (tenant_id, sku, warehouse_id, on_hand, reserved, incoming, version, updated_at) \
             SELECT s.tenant_id, s.sku, w.id, s.on_hand, s.reserved, 0, s.version, s.updated_at \
             FROM stock_levels s JOIN warehouses w ON w.tenant_id = s.tenant_id AND w.is_default",
        )
        .await?;
        db.execute_unprepared("DROP TABLE stock_levels").await?;
        db.execute_unprepared("ALTER TABLE stock_levels_new RENAME TO stock_levels")
            .await?;

        m.alter_table(
            Table::alter()
                .table(StockMovements::Table)
                .add_column(uuid_null(StockMovements::WarehouseId))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(StockMovements::Table)
                .add_column(big_integer(StockMovements::IncomingDelta).default(0))
                .to_owned(),
        )
        .await?;
        db.execute_unprepared(
            "UPDATE stock_movements SET warehouse_id = (SELECT w.id FROM warehouses w \
             WHERE w.tenant_id = stock_movements.tenant_id AND w.is_default)",
        )
        .await?;

        for column in [
            ColumnDef::new(Products::Active)
                .boolean()
                .not_null()
                .default(true)
                .to_owned(),
            ColumnDef::new(Products::LowStockThreshold)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Products::LeadTimeDays)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Products::AverageCostMinor)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Products::AverageCostCurrency)
                .string()
                .null()
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Products::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(KitComponents::Table)
                .col(uuid(KitComponents::TenantId))
                .col(string(KitComponents::KitSku))
                .col(string(KitComponents::ComponentSku))
                .col(big_integer(KitComponents::Quantity))
                .primary_key(
                    Index::create()
                        .col(KitComponents::TenantId)
                        .col(KitComponents::KitSku)
                        .col(KitComponents::ComponentSku),
                )
                .check(Expr::col(KitComponents::Quantity).gt(0))
                .foreign_key(&mut tenant_fk(
                    KitComponents::Table,
                    KitComponents::TenantId,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StockAllocations::Table)
                .col(uuid(StockAllocations::TenantId))
                .col(string(StockAllocations::Owner))
                .col(integer(StockAllocations::LineNo))
                .col(string(StockAllocations::Sku))
                .col(uuid(StockAllocations::WarehouseId))
                .col(big_integer(StockAllocations::Quantity))
                .primary_key(
                    Index::create()
                        .col(StockAllocations::TenantId)
                        .col(StockAllocations::Owner)
                        .col(StockAllocations::LineNo)
                        .col(StockAllocations::Sku)
                        .col(StockAllocations::WarehouseId),
                )
                .check(Expr::col(StockAllocations::Quantity).gt(0))
                .foreign_key(&mut tenant_fk(
                    StockAllocations::Table,
                    StockAllocations::TenantId,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReservationHolds::Table)
                .col(uuid(ReservationHolds::Id).primary_key())
                .col(uuid(ReservationHolds::TenantId))
                .col(string(ReservationHolds::Status))
                .col(json_binary(ReservationHolds::Lines))
                .col(string_null(ReservationHolds::Reference))
                .col(string_null(ReservationHolds::OrderRef))
                .col(timestamp_with_time_zone(ReservationHolds::ExpiresAt))
                .col(timestamp_with_time_zone(ReservationHolds::CreatedAt))
                .col(timestamp_with_time_zone(ReservationHolds::UpdatedAt))
                .foreign_key(&mut tenant_fk(
                    ReservationHolds::Table,
                    ReservationHolds::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_reservation_holds_due")
                .table(ReservationHolds::Table)
                .col(ReservationHolds::Status)
                .col(ReservationHolds::ExpiresAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StockTransfers::Table)
                .col(uuid(StockTransfers::Id).primary_key())
                .col(uuid(StockTransfers::TenantId))
                .col(uuid(StockTransfers::FromWarehouseId))
                .col(uuid(StockTransfers::ToWarehouseId))
                .col(string(StockTransfers::Status))
                .col(json_binary(StockTransfers::Lines))
                .col(string_null(StockTransfers::Reference))
                .col(timestamp_with_time_zone(StockTransfers::CreatedAt))
                .col(timestamp_with_time_zone_null(StockTransfers::ReceivedAt))
                .foreign_key(&mut tenant_fk(
                    StockTransfers::Table,
                    StockTransfers::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        // Forward-only: folding warehouses back into one figure would lose information.
        Err(DbErr::Migration(
            "000004 inventory_locations is forward-only; restore a backup instead".into(),
        ))
    }
}
