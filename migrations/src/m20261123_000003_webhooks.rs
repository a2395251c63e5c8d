//! Seller webhooks: subscriptions and their deliveries (one per subscription and event).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookSubscriptions {
    Table,
    Id,
    TenantId,
    Url,
    Events,
    Secret,
    Active,
    ConsecutiveFailures,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    TenantId,
    SubscriptionId,
    EventId,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastStatusCode,
    LastError,
    CreatedAt,
    DeliveredAt,
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
                .table(WebhookSubscriptions::Table)
                .col(uuid(WebhookSubscriptions::Id).primary_key())
                .col(uuid(WebhookSubscriptions::TenantId))
                .col(string(WebhookSubscriptions::Url))
                .col(json_binary(WebhookSubscriptions::Events))
                // Needed in clear to sign; shown to the seller once.
                .col(string(WebhookSubscriptions::Secret))
                .col(boolean(WebhookSubscriptions::Active))
                .col(integer(WebhookSubscriptions::ConsecutiveFailures))
                .col(timestamp_with_time_zone(WebhookSubscriptions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookSubscriptions::Table, WebhookSubscriptions::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_subscriptions_tenant")
                .table(WebhookSubscriptions::Table)
                .col(WebhookSubscriptions::TenantId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(uuid(WebhookDeliveries::Id).primary_key())
                .col(uuid(WebhookDeliveries::TenantId))
                .col(uuid(WebhookDeliveries::SubscriptionId))
                .col(uuid(WebhookDeliveries::EventId))
                .col(string(WebhookDeliveries::EventType))
                .col(json_binary(WebhookDeliveries::Payload))
                .col(string(WebhookDeliveries::Status))
                .col(integer(WebhookDeliveries::Attempts))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(integer_null(WebhookDeliveries::LastStatusCode))
                .col(string_null(WebhookDeliveries::LastError))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::DeliveredAt,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::SubscriptionId)
                        .to(WebhookSubscriptions::Table, WebhookSubscriptions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Fan-out is idempotent: one delivery per subscription and event.
        m.create_index(
            Index::create()
                .name("ux_webhook_deliveries_subscription_event")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::SubscriptionId)
                .col(WebhookDeliveries::EventId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(WebhookSubscriptions::Table).to_owned())
            .await
    }
}
