//! Tenants, API keys, catalogue, stock levels and their ledger, orders, the outbox and
//! idempotency records.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Company,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    Prefix,
    Hash,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    TenantId,
    Sku,
    Name,
    Barcode,
    WeightGrams,
    LengthMm,
    WidthMm,
    HeightMm,
    UnitCostMinor,
    UnitCostCurrency,
    HsCode,
    CountryOfOrigin,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StockLevels {
    Table,
    TenantId,
    Sku,
    OnHand,
    Reserved,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StockMovements {
    Table,
    Id,
    TenantId,
    Sku,
    Kind,
    OnHandDelta,
    ReservedDelta,
    Reason,
    Reference,
    Actor,
    OccurredAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    TenantId,
    Channel,
    ExternalId,
    Status,
    AllowBackorder,
    ShipTo,
    Currency,
    TotalMinor,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    LineNo,
    TenantId,
    Sku,
    Quantity,
    Allocated,
    UnitPriceMinor,
    Currency,
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    TenantId,
    EventType,
    AggregateType,
    AggregateId,
    AggregateVersion,
    Payload,
    CorrelationId,
    OccurredAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum IdempotencyRecords {
    Table,
    TenantId,
    Key,
    Fingerprint,
    ResourceType,
    ResourceId,
    CreatedAt,
}

fn fk(
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(uuid(Tenants::Id).primary_key())
                .col(string(Tenants::Company))
                .col(string(Tenants::Email))
                .col(timestamp_with_time_zone(Tenants::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(uuid(ApiKeys::Id).primary_key())
                .col(uuid(ApiKeys::TenantId))
                .col(string(ApiKeys::Name))
                .col(string(ApiKeys::Prefix))
                .col(string(ApiKeys::Hash).unique_key())
                .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                .foreign_key(&mut fk(
                    (ApiKeys::Table, ApiKeys::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Products::Table)
                .col(uuid(Products::Id).primary_key())
                .col(uuid(Products::TenantId))
                .col(string(Products::Sku))
                .col(string(Products::Name))
                .col(string_null(Products::Barcode))
                .col(integer_null(Products::WeightGrams))
                .col(integer_null(Products::LengthMm))
                .col(integer_null(Products::WidthMm))
                .col(integer_null(Products::HeightMm))
                .col(big_integer_null(Products::UnitCostMinor))
                .col(string_null(Products::UnitCostCurrency))
                .col(string_null(Products::HsCode))
                .col(string_null(Products::CountryOfOrigin))
                .col(big_integer(Products::Version))
                .col(timestamp_with_time_zone(Products::CreatedAt))
                .col(timestamp_with_time_zone(Products::UpdatedAt))
                .foreign_key(&mut fk(
                    (Products::Table, Products::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_products_tenant_sku")
                .table(Products::Table)
                .col(Products::TenantId)
                .col(Products::Sku)
                .unique()
                .to_owned(),
        )
        .await?;

        // The oversell wall: even a buggy writer cannot make reserved exceed on hand.
        m.create_table(
            Table::create()
                .table(StockLevels::Table)
                .col(uuid(StockLevels::TenantId))
                .col(string(StockLevels::Sku))
                .col(big_integer(StockLevels::OnHand))
                .col(big_integer(StockLevels::Reserved))
                .col(big_integer(StockLevels::Version))
                .col(timestamp_with_time_zone(StockLevels::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(StockLevels::TenantId)
                        .col(StockLevels::Sku),
                )
                .check(Expr::col(StockLevels::Reserved).gte(0))
                .check(Expr::col(StockLevels::Reserved).lte(Expr::col(StockLevels::OnHand)))
                .foreign_key(&mut fk(
                    (StockLevels::Table, StockLevels::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StockMovements::Table)
                .col(uuid(StockMovements::Id).primary_key())
                .col(uuid(StockMovements::TenantId))
                .col(string(StockMovements::Sku))
                .col(string(StockMovements::Kind))
                .col(big_integer(StockMovements::OnHandDelta))
                .col(big_integer(StockMovements::ReservedDelta))
                .col(string_null(StockMovements::Reason))
                .col(string_null(StockMovements::Reference))
                .col(string_null(StockMovements::Actor))
                .col(timestamp_with_time_zone(StockMovements::OccurredAt))
                .foreign_key(&mut fk(
                    (StockMovements::Table, StockMovements::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_stock_movements_tenant_sku")
                .table(StockMovements::Table)
                .col(StockMovements::TenantId)
                .col(StockMovements::Sku)
                .col(StockMovements::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Orders::Table)
                .col(uuid(Orders::Id).primary_key())
                .col(uuid(Orders::TenantId))
                .col(string(Orders::Channel))
                .col(string_null(Orders::ExternalId))
                .col(string(Orders::Status))
                .col(boolean(Orders::AllowBackorder))
                .col(json_binary(Orders::ShipTo))
                .col(string(Orders::Currency))
                .col(big_integer(Orders::TotalMinor))
                .col(big_integer(Orders::Version))
                .col(timestamp_with_time_zone(Orders::CreatedAt))
                .col(timestamp_with_time_zone(Orders::UpdatedAt))
                .foreign_key(&mut fk(
                    (Orders::Table, Orders::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;
        // NULL external ids are distinct on both databases, so API orders without one never clash.
        m.create_index(
            Index::create()
                .name("ux_orders_tenant_channel_external")
                .table(Orders::Table)
                .col(Orders::TenantId)
                .col(Orders::Channel)
                .col(Orders::ExternalId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_orders_tenant_id")
                .table(Orders::Table)
                .col(Orders::TenantId)
                .col(Orders::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_orders_tenant_status_id")
                .table(Orders::Table)
                .col(Orders::TenantId)
                .col(Orders::Status)
                .col(Orders::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrderLines::Table)
                .col(uuid(OrderLines::OrderId))
                .col(integer(OrderLines::LineNo))
                .col(uuid(OrderLines::TenantId))
                .col(string(OrderLines::Sku))
                .col(big_integer(OrderLines::Quantity))
                .col(big_integer(OrderLines::Allocated))
                .col(big_integer(OrderLines::UnitPriceMinor))
                .col(string(OrderLines::Currency))
                .primary_key(
                    Index::create()
                        .col(OrderLines::OrderId)
                        .col(OrderLines::LineNo),
                )
                .foreign_key(&mut fk(
                    (OrderLines::Table, OrderLines::OrderId),
                    (Orders::Table, Orders::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OutboxEvents::Table)
                .col(uuid(OutboxEvents::Id).primary_key())
                .col(uuid(OutboxEvents::TenantId))
                .col(string(OutboxEvents::EventType))
                .col(string(OutboxEvents::AggregateType))
                .col(uuid(OutboxEvents::AggregateId))
                .col(big_integer(OutboxEvents::AggregateVersion))
                .col(json_binary(OutboxEvents::Payload))
                .col(uuid_null(OutboxEvents::CorrelationId))
                .col(timestamp_with_time_zone(OutboxEvents::OccurredAt))
                .col(timestamp_with_time_zone_null(OutboxEvents::PublishedAt))
                .to_owned(),
        )
        .await?;
        // The relay only ever scans unpublished events; keep that index small on both databases.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_outbox_unpublished ON outbox_events (id) WHERE published_at IS NULL",
            )
            .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyRecords::Table)
                .col(uuid(IdempotencyRecords::TenantId))
                .col(string(IdempotencyRecords::Key))
                .col(string(IdempotencyRecords::Fingerprint))
                .col(string(IdempotencyRecords::ResourceType))
                .col(uuid(IdempotencyRecords::ResourceId))
                .col(timestamp_with_time_zone(IdempotencyRecords::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyRecords::TenantId)
                        .col(IdempotencyRecords::Key),
                )
                .foreign_key(&mut fk(
                    (IdempotencyRecords::Table, IdempotencyRecords::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyRecords::Table.into_iden(),
            OutboxEvents::Table.into_iden(),
            OrderLines::Table.into_iden(),
            Orders::Table.into_iden(),
            StockMovements::Table.into_iden(),
            StockLevels::Table.into_iden(),
            Products::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
