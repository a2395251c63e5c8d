//! Shipping: each tenant's rate table (its own courier's prices, also behind the public quote),
//! the label bought for a shipment (what reprints it, and its public tracking id), and the
//! tracking events of its parcel.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum RateTables {
    Table,
    TenantId,
    Body,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ShipmentLabels {
    Table,
    ShipmentId,
    TenantId,
    OrderId,
    PublicId,
    Provider,
    Carrier,
    Service,
    ServiceLevel,
    TrackingNumber,
    CarrierShipmentId,
    TrackerId,
    PriceMinor,
    Currency,
    CarrierLabelUrl,
    Reference,
    Details,
    Status,
    DeliveredAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TrackingEvents {
    Table,
    Id,
    TenantId,
    ShipmentId,
    At,
    Status,
    Message,
    Location,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RateTables::Table)
                .col(uuid(RateTables::TenantId).primary_key())
                .col(json_binary(RateTables::Body))
                .col(timestamp_with_time_zone(RateTables::UpdatedAt))
                .foreign_key(&mut crate::common::cascade_to_tenant(
                    RateTables::Table,
                    RateTables::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ShipmentLabels::Table)
                .col(uuid(ShipmentLabels::ShipmentId).primary_key())
                .col(uuid(ShipmentLabels::TenantId))
                .col(uuid(ShipmentLabels::OrderId))
                .col(string(ShipmentLabels::PublicId))
                .col(string(ShipmentLabels::Provider))
                .col(string(ShipmentLabels::Carrier))
                .col(string(ShipmentLabels::Service))
                .col(string(ShipmentLabels::ServiceLevel))
                .col(string(ShipmentLabels::TrackingNumber))
                .col(string(ShipmentLabels::CarrierShipmentId))
                .col(string_null(ShipmentLabels::TrackerId))
                .col(big_integer(ShipmentLabels::PriceMinor))
                .col(string(ShipmentLabels::Currency))
                .col(text_null(ShipmentLabels::CarrierLabelUrl))
                .col(string(ShipmentLabels::Reference))
                // Ship-from, ship-to, parcel and customs lines: read and written whole.
                .col(json_binary(ShipmentLabels::Details))
                .col(string(ShipmentLabels::Status))
                .col(timestamp_with_time_zone_null(ShipmentLabels::DeliveredAt))
                .col(timestamp_with_time_zone(ShipmentLabels::CreatedAt))
                .foreign_key(&mut crate::common::cascade_to_tenant(
                    ShipmentLabels::Table,
                    ShipmentLabels::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        for (name, cols, unique) in [
            (
                "ux_shipment_labels_public_id",
                vec![ShipmentLabels::PublicId],
                true,
            ),
            (
                "ix_shipment_labels_tenant_order",
                vec![ShipmentLabels::TenantId, ShipmentLabels::OrderId],
                false,
            ),
            (
                "ix_shipment_labels_status",
                vec![ShipmentLabels::Status, ShipmentLabels::CreatedAt],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(ShipmentLabels::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            m.create_index(index.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(TrackingEvents::Table)
                .col(uuid(TrackingEvents::Id).primary_key())
                .col(uuid(TrackingEvents::TenantId))
                .col(uuid(TrackingEvents::ShipmentId))
                .col(timestamp_with_time_zone(TrackingEvents::At))
                .col(string(TrackingEvents::Status))
                .col(text(TrackingEvents::Message))
                .col(string_null(TrackingEvents::Location))
                .foreign_key(&mut crate::common::cascade_to_tenant(
                    TrackingEvents::Table,
                    TrackingEvents::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_tracking_events_once")
                .table(TrackingEvents::Table)
                .col(TrackingEvents::ShipmentId)
                .col(TrackingEvents::At)
                .col(TrackingEvents::Status)
                .unique()
                .to_owned(),
        )
        .await?;
        crate::apply_forced_policies(m.get_connection()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
