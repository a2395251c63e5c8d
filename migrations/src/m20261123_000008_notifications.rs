//! Customer notifications: the tenant's template overrides, and the log of what was sent.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotificationTemplates {
    Table,
    TenantId,
    Kind,
    Subject,
    Body,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationLog {
    Table,
    Id,
    TenantId,
    EventId,
    Kind,
    OrderId,
    Recipient,
    Status,
    Error,
    CreatedAt,
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
                .table(NotificationTemplates::Table)
                .col(uuid(NotificationTemplates::TenantId))
                .col(string(NotificationTemplates::Kind))
                .col(string(NotificationTemplates::Subject))
                .col(text(NotificationTemplates::Body))
                .col(timestamp_with_time_zone(NotificationTemplates::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(NotificationTemplates::TenantId)
                        .col(NotificationTemplates::Kind),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            NotificationTemplates::Table,
                            NotificationTemplates::TenantId,
                        )
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(NotificationLog::Table)
                .col(uuid(NotificationLog::Id).primary_key())
                .col(uuid(NotificationLog::TenantId))
                // One message per event, ever: the consumer's second line of idempotency.
                .col(uuid(NotificationLog::EventId).unique_key())
                .col(string(NotificationLog::Kind))
                .col(uuid_null(NotificationLog::OrderId))
                .col(string_null(NotificationLog::Recipient))
                .col(string(NotificationLog::Status))
                .col(string_null(NotificationLog::Error))
                .col(timestamp_with_time_zone(NotificationLog::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(NotificationLog::Table, NotificationLog::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The log API lists a tenant's entries (of one order), newest first, by id.
        m.create_index(
            Index::create()
                .name("ix_notification_log_tenant_order")
                .table(NotificationLog::Table)
                .col(NotificationLog::TenantId)
                .col(NotificationLog::OrderId)
                .col(NotificationLog::Id)
                .to_owned(),
        )
        .await?;
        crate::apply_policies(m.get_connection()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(NotificationLog::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(NotificationTemplates::Table).to_owned())
            .await
    }
}
