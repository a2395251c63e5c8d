//! Event delivery: per-aggregate ordering for the relay, the consumers' inbox, in-process
//! dead letters, and the first read model (orders per day).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Inbox {
    Table,
    Consumer,
    EventId,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum DeadLetters {
    Table,
    Id,
    Consumer,
    EventId,
    EventType,
    TenantId,
    Event,
    Error,
    FailedAt,
}

#[derive(DeriveIden)]
enum AnalyticsDailyOrders {
    Table,
    TenantId,
    Day,
    Channel,
    Created,
    Cancelled,
    RevenueMinor,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The relay publishes only the oldest pending event of each aggregate; this finds it.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_outbox_pending_aggregate ON outbox_events \
                 (aggregate_id, aggregate_version) WHERE published_at IS NULL",
            )
            .await?;

        m.create_table(
            Table::create()
                .table(Inbox::Table)
                .col(string(Inbox::Consumer))
                .col(uuid(Inbox::EventId))
                .col(timestamp_with_time_zone(Inbox::ProcessedAt))
                .primary_key(Index::create().col(Inbox::Consumer).col(Inbox::EventId))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DeadLetters::Table)
                .col(uuid(DeadLetters::Id).primary_key())
                .col(string(DeadLetters::Consumer))
                .col(uuid(DeadLetters::EventId))
                .col(string(DeadLetters::EventType))
                .col(uuid(DeadLetters::TenantId))
                .col(json_binary(DeadLetters::Event))
                .col(string(DeadLetters::Error))
                .col(timestamp_with_time_zone(DeadLetters::FailedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AnalyticsDailyOrders::Table)
                .col(uuid(AnalyticsDailyOrders::TenantId))
                // `YYYY-MM-DD` (UTC): portable, and sorts as a date.
                .col(string(AnalyticsDailyOrders::Day))
                .col(string(AnalyticsDailyOrders::Channel))
                .col(big_integer(AnalyticsDailyOrders::Created))
                .col(big_integer(AnalyticsDailyOrders::Cancelled))
                .col(big_integer(AnalyticsDailyOrders::RevenueMinor))
                .primary_key(
                    Index::create()
                        .col(AnalyticsDailyOrders::TenantId)
                        .col(AnalyticsDailyOrders::Day)
                        .col(AnalyticsDailyOrders::Channel),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AnalyticsDailyOrders::Table.into_iden(),
            DeadLetters::Table.into_iden(),
            Inbox::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.get_connection()
            .execute_unprepared("DROP INDEX ix_outbox_pending_aggregate")
            .await?;
        Ok(())
    }
}
