//! Order lifecycle: service level, ship-by and hold on orders; picked, shipped and returned on
//! lines; a status history; shipments; warehouse cut-offs; per-tenant allocation rules; and a
//! searchable customer e-mail. Existing orders get `ship_by = created_at` (they are due).

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    TenantId,
    Id,
    ServiceLevel,
    ServiceRank,
    CutoffMinute,
    ShipBy,
    HoldReason,
    HoldResume,
    CustomerEmail,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    TenantId,
    Sku,
    Picked,
    Shipped,
    Returned,
}

#[derive(DeriveIden)]
enum OrderStatusHistory {
    Table,
    Id,
    TenantId,
    OrderId,
    FromStatus,
    ToStatus,
    Reason,
    Actor,
    At,
}

#[derive(DeriveIden)]
enum Shipments {
    Table,
    Id,
    TenantId,
    OrderId,
    Carrier,
    Service,
    TrackingNumber,
    TrackingUrl,
    Lines,
    ShippedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum Warehouses {
    Table,
    CutoffMinute,
}

#[derive(DeriveIden)]
enum AllocationRules {
    Table,
    TenantId,
    PreferSingleWarehouse,
    AllowSplit,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    TenantId,
    AggregateId,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

async fn add_column(
    m: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    col: ColumnDef,
) -> Result<(), DbErr> {
    // One column per statement: SQLite cannot add several at once.
    m.alter_table(Table::alter().table(table).add_column(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        add_column(
            m,
            Orders::Table,
            string(Orders::ServiceLevel).default("standard").to_owned(),
        )
        .await?;
        add_column(
            m,
            Orders::Table,
            integer(Orders::ServiceRank).default(2).to_owned(),
        )
        .await?;
        add_column(
            m,
            Orders::Table,
            integer(Orders::CutoffMinute).default(900).to_owned(),
        )
        .await?;
        add_column(
            m,
            Orders::Table,
            timestamp_with_time_zone_null(Orders::ShipBy).to_owned(),
        )
        .await?;
        add_column(m, Orders::Table, text_null(Orders::HoldReason).to_owned()).await?;
        add_column(m, Orders::Table, string_null(Orders::HoldResume).to_owned()).await?;
        add_column(
            m,
            Orders::Table,
            string_null(Orders::CustomerEmail).to_owned(),
        )
        .await?;
        db.execute_unprepared("UPDATE orders SET ship_by = created_at")
            .await?;
        let email = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "lower(ship_to->>'email')",
            _ => "lower(json_extract(ship_to, '$.email'))",
        };
        db.execute_unprepared(&format!("UPDATE orders SET customer_email = {email}"))
            .await?;
        for col in [
            OrderLines::Picked,
            OrderLines::Shipped,
            OrderLines::Returned,
        ] {
            add_column(m, OrderLines::Table, big_integer(col).default(0).to_owned()).await?;
        }
        add_column(
            m,
            Warehouses::Table,
            integer(Warehouses::CutoffMinute).default(900).to_owned(),
        )
        .await?;

        // The warehouse queue and backorder filling: earliest ship-by, faster service, oldest.
        m.create_index(
            Index::create()
                .name("ix_orders_tenant_ship_by")
                .table(Orders::Table)
                .col(Orders::TenantId)
                .col(Orders::ShipBy)
                .col(Orders::ServiceRank)
                .col(Orders::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_orders_tenant_email")
                .table(Orders::Table)
                .col(Orders::TenantId)
                .col(Orders::CustomerEmail)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_order_lines_tenant_sku")
                .table(OrderLines::Table)
                .col(OrderLines::TenantId)
                .col(OrderLines::Sku)
                .to_owned(),
        )
        .await?;

        // An order's timeline reads its events.
        m.create_index(
            Index::create()
                .name("ix_outbox_events_aggregate")
                .table(OutboxEvents::Table)
                .col(OutboxEvents::TenantId)
                .col(OutboxEvents::AggregateId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrderStatusHistory::Table)
                .col(uuid(OrderStatusHistory::Id).primary_key())
                .col(uuid(OrderStatusHistory::TenantId))
                .col(uuid(OrderStatusHistory::OrderId))
                .col(string_null(OrderStatusHistory::FromStatus))
                .col(string(OrderStatusHistory::ToStatus))
                .col(text_null(OrderStatusHistory::Reason))
                .col(string(OrderStatusHistory::Actor))
                .col(timestamp_with_time_zone(OrderStatusHistory::At))
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderStatusHistory::Table, OrderStatusHistory::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_order_status_history_order")
                .table(OrderStatusHistory::Table)
                .col(OrderStatusHistory::TenantId)
                .col(OrderStatusHistory::OrderId)
                .col(OrderStatusHistory::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Shipments::Table)
                .col(uuid(Shipments::Id).primary_key())
                .col(uuid(Shipments::TenantId))
                .col(uuid(Shipments::OrderId))
                .col(string(Shipments::Carrier))
                .col(string_null(Shipments::Service))
                .col(string_null(Shipments::TrackingNumber))
                .col(text_null(Shipments::TrackingUrl))
                .col(json_binary(Shipments::Lines))
                .col(timestamp_with_time_zone(Shipments::ShippedAt))
                .col(timestamp_with_time_zone_null(Shipments::DeliveredAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Shipments::Table, Shipments::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_shipments_tenant_order")
                .table(Shipments::Table)
                .col(Shipments::TenantId)
                .col(Shipments::OrderId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AllocationRules::Table)
                .col(uuid(AllocationRules::TenantId).primary_key())
                .col(boolean(AllocationRules::PreferSingleWarehouse))
                .col(boolean(AllocationRules::AllowSplit))
                .col(timestamp_with_time_zone(AllocationRules::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(AllocationRules::Table, AllocationRules::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        crate::apply_policies(db).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
