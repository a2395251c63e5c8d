//! Event delivery on the database side: the relay's claim-publish-mark cycle, the consumers'
//! inbox, dead letters of in-process consumers, and the orders-per-day read model.

use crate::entities::{dead_letter, outbox_event};
use crate::outbox::to_row;
use crate::store::SEE_ALL_TENANTS;
use crate::tx::Tx;
use crate::{SqlStore, store_err};
use analytics::DailyIncrement;
use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, EventId, EventPublisher, PublishError, StoreError, TenantId};
use sea_orm::sea_query::{
    Alias, Expr, InsertStatement, LockBehavior, LockType, OnConflict, Order, Query,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What one relay round did.
#[derive(Debug, Default)]
pub struct RelayRound {
    pub claimed: usize,
    pub published: usize,
    pub error: Option<PublishError>,
    /// For each published event, seconds from its commit to the broker's confirmation.
    pub lag_seconds: Vec<f64>,
}

/// An event an in-process consumer gave up on.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub id: uuid::Uuid,
    pub consumer: String,
    pub event: EventEnvelope,
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

/// An open inbox entry: the consumer's effect and the inbox record commit together.
pub struct InboxTx(Tx);

impl InboxTx {
    pub(crate) fn connection(&self) -> &Tx {
        &self.0
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await.map_err(store_err)
    }
}

/// Records that `consumer` handled each event `(id, when)`; an event it already had is left
/// as it was (`ON CONFLICT DO NOTHING`), so a redelivery inserts nothing.
pub(crate) fn inbox_insert(
    consumer: &str,
    handled: impl IntoIterator<Item = (Uuid, DateTime<Utc>)>,
) -> InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(Alias::new("inbox")).columns([
        Alias::new("consumer"),
        Alias::new("event_id"),
        Alias::new("processed_at"),
    ]);
    for (id, at) in handled {
        insert.values_panic([consumer.into(), id.into(), at.into()]);
    }
    insert.on_conflict(
        OnConflict::columns([Alias::new("consumer"), Alias::new("event_id")])
            .do_nothing()
            .to_owned(),
    );
    insert
}

/// The oldest pending events, at most `limit`, each the lowest pending version of its
/// aggregate; with [`Claim::MarkInTransaction`], locked `FOR UPDATE SKIP LOCKED` (so relays
/// share the work) and marked published in the same statement.
///
/// Three plain statements, each bounded by the window, rather than one with a correlated
/// `NOT EXISTS`: the pending set is small and churns, so its statistics are always stale, and
/// with them the planner re-scanned every pending row once per candidate (38 ms a claim under
/// load, `make bench`, docs/adr/017). Each statement's cost is linear in the window as long
/// as its id lists are planned as constants: `relay_round` asks PostgreSQL for plans made
/// with the values (docs/adr/018); SQLite looks an `IN` list up in a temporary index anyway.
async fn claim(
    conn: &impl ConnectionTrait,
    limit: u64,
    how: Claim,
) -> Result<Vec<outbox_event::Model>, StoreError> {
    // The candidates are the oldest pending events, read in id order from the partial index
    // and cut off early, so entries of rows published since the last vacuum are passed once.
    let window = limit.saturating_mul(5);
    let candidates: Vec<(Uuid, Uuid, i64)> = outbox_event::Entity::find()
        .select_only()
        .columns([
            outbox_event::Column::Id,
            outbox_event::Column::AggregateId,
            outbox_event::Column::AggregateVersion,
        ])
        .filter(outbox_event::Column::PublishedAt.is_null())
        .order_by_asc(outbox_event::Column::Id)
        .limit(window)
        .into_tuple()
        .all(conn)
        .await
        .map_err(store_err)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // The lowest pending version of each candidate's aggregate, wherever it sits: an event
    // waits while an earlier one of its aggregate is pending, even one another relay holds.
    let aggregates: HashSet<Uuid> = candidates.iter().map(|(_, a, _)| *a).collect();
    let first: HashMap<Uuid, i64> = outbox_event::Entity::find()
        .select_only()
        .column(outbox_event::Column::AggregateId)
        .column_as(outbox_event::Column::AggregateVersion.min(), "first")
        .filter(outbox_event::Column::PublishedAt.is_null())
        .filter(outbox_event::Column::AggregateId.is_in(aggregates))
        .group_by(outbox_event::Column::AggregateId)
        .into_tuple::<(Uuid, i64)>()
        .all(conn)
        .await
        .map_err(store_err)?
        .into_iter()
        .collect();
    let ready: Vec<Uuid> = candidates
        .iter()
        .filter(|(_, aggregate, version)| first.get(aggregate) == Some(version))
        .map(|(id, _, _)| *id)
        .collect();
    if ready.is_empty() {
        return Ok(Vec::new());
    }
    if how == Claim::ReadThenMark {
        return outbox_event::Entity::find()
            .filter(outbox_event::Column::Id.is_in(ready))
            .filter(outbox_event::Column::PublishedAt.is_null())
            .order_by_asc(outbox_event::Column::Id)
            .limit(limit)
            .all(conn)
            .await
            .map_err(store_err);
    }
    // The lock re-checks `published_at` against the newest row version, so an event another
    // relay published meanwhile is skipped.
    let mut locked = Query::select();
    locked
        .column(outbox_event::Column::Id)
        .from(outbox_event::Entity)
        .and_where(outbox_event::Column::Id.is_in(ready))
        .and_where(outbox_event::Column::PublishedAt.is_null())
        .order_by(outbox_event::Column::Id, Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let mut marked = outbox_event::Entity::update_many()
        .col_expr(outbox_event::Column::PublishedAt, Expr::value(Utc::now()))
        .filter(outbox_event::Column::Id.in_subquery(locked))
        .exec_with_returning(conn)
        .await
        .map_err(store_err)?;
    // RETURNING keeps no order; publish in id order, as the claim read them.
    marked.sort_by_key(|m| m.id);
    Ok(marked)
}

/// How a relay round claims its events.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// In a transaction (PostgreSQL): the claim marks the events published as it locks them
    /// (`UPDATE … WHERE id IN (… FOR UPDATE SKIP LOCKED) RETURNING`), and the round un-marks
    /// those the broker did not confirm before it commits. A crash rolls the marks back, so
    /// delivery stays at least once; each event is written once instead of locked, then
    /// written.
    MarkInTransaction,
    /// No transaction (SQLite, one relay): read, publish, then mark what was confirmed.
    ReadThenMark,
}

async fn claim_publish_mark(
    conn: &impl ConnectionTrait,
    publisher: &dyn EventPublisher,
    limit: u64,
    how: Claim,
) -> Result<RelayRound, StoreError> {
    let rows = claim(conn, limit, how).await?;
    if rows.is_empty() {
        return Ok(RelayRound::default());
    }
    let events: Vec<EventEnvelope> = rows.into_iter().map(|m| to_row(m).event).collect();
    let outcome = publisher.publish(&events).await;
    let now = Utc::now();
    let lag_seconds = events
        .iter()
        .filter(|e| outcome.confirmed.contains(&e.id))
        .map(|e| ((now - e.occurred_at).num_milliseconds().max(0) as f64) / 1000.0)
        .collect();
    let (mark, ids): (Option<DateTime<Utc>>, Vec<Uuid>) = match how {
        Claim::ReadThenMark => (
            Some(now),
            outcome.confirmed.iter().map(|id| id.into_uuid()).collect(),
        ),
        Claim::MarkInTransaction => {
            let confirmed: HashSet<EventId> = outcome.confirmed.iter().copied().collect();
            let unconfirmed = events.iter().filter(|e| !confirmed.contains(&e.id));
            (None, unconfirmed.map(|e| e.id.into_uuid()).collect())
        }
    };
    if !ids.is_empty() {
        outbox_event::Entity::update_many()
            .col_expr(outbox_event::Column::PublishedAt, Expr::value(mark))
            .filter(outbox_event::Column::Id.is_in(ids))
            .exec(conn)
            .await
            .map_err(store_err)?;
    }
    Ok(RelayRound {
        claimed: events.len(),
        published: outcome.confirmed.len(),
        error: outcome.error,
        lag_seconds,
    })
}

impl SqlStore {
    /// Claims up to `limit` pending events — only the oldest pending one of each aggregate, so
    /// per-aggregate order holds — hands them to `publisher`, and leaves published exactly those
    /// it confirmed, all in one transaction. On PostgreSQL the claim is `FOR UPDATE SKIP
    /// LOCKED` and marks as it locks (see [`Claim::MarkInTransaction`]), so several relays
    /// share the work and never publish an event twice.
    pub async fn relay_round(
        &self,
        publisher: &dyn EventPublisher,
        limit: u64,
    ) -> Result<RelayRound, StoreError> {
        match self.db.get_database_backend() {
            DatabaseBackend::Postgres => {
                // All tenants: the relay publishes every tenant's events. And the claim's id
                // lists are hundreds of parameters. A cached generic plan keeps them as
                // parameters, which PostgreSQL compares one by one against every pending row
                // (seen in `make bench`: 40-125 ms a statement once thousands were pending);
                // planned with the values, the list is a constant it hashes.
                let tx = self
                    .begin(format!(
                        "{SEE_ALL_TENANTS}; SET LOCAL plan_cache_mode = force_custom_plan"
                    ))
                    .await?;
                let round =
                    claim_publish_mark(&tx, publisher, limit, Claim::MarkInTransaction).await?;
                tx.commit().await.map_err(store_err)?;
                Ok(round)
            }
            // SQLite: one connection and one relay, so nothing to lock against; and holding a
            // transaction across the publish would starve in-process handlers of the connection.
            // (No row-level security on SQLite, so the plain connection sees every tenant.)
            _ => claim_publish_mark(&self.db, publisher, limit, Claim::ReadThenMark).await,
        }
    }

    /// In-process dead letters per consumer.
    pub async fn dead_letter_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        // All tenants: dead-letter counts are an operator metric over the whole platform.
        self.across_tenants(async |tx| {
            let rows: Vec<(String, i64)> = dead_letter::Entity::find()
                .select_only()
                .column(dead_letter::Column::Consumer)
                .column_as(dead_letter::Column::Id.count(), "n")
                .group_by(dead_letter::Column::Consumer)
                .into_tuple()
                .all(tx)
                .await
                .map_err(store_err)?;
            Ok(rows
                .into_iter()
                .map(|(c, n)| (c, n.max(0) as u64))
                .collect())
        })
        .await
    }

    /// How many events wait to be published, and the age in seconds of the oldest.
    pub async fn outbox_backlog(&self) -> Result<(u64, Option<i64>), StoreError> {
        // All tenants: the relay backlog is an operator metric over the whole platform.
        self.across_tenants(async |tx| {
            let pending =
                outbox_event::Entity::find().filter(outbox_event::Column::PublishedAt.is_null());
            let count = pending.clone().count(tx).await.map_err(store_err)?;
            let oldest = pending
                .order_by_asc(outbox_event::Column::Id)
                .one(tx)
                .await
                .map_err(store_err)?
                .map(|e| (Utc::now() - e.occurred_at).num_seconds());
            Ok((count, oldest))
        })
        .await
    }

    /// Opens the inbox entry for `(consumer, event)`, or `None` if that consumer already
    /// processed the event. The caller applies its effect through [`SqlStore::apply_daily_orders`]
    /// (or its own writes) and commits; until then a concurrent duplicate waits, then skips.
    pub async fn inbox_begin(
        &self,
        consumer: &str,
        event: &EventEnvelope,
    ) -> Result<Option<InboxTx>, StoreError> {
        // The consumer's effect is the event's tenant's (the inbox table itself has no tenant).
        let (tx, fresh) = self
            .inbox_begin_many(consumer, event.tenant_id, &[event])
            .await?;
        Ok((!fresh.is_empty()).then_some(tx))
    }

    /// [`inbox_begin`](Self::inbox_begin) for several events of one tenant in one statement:
    /// the transaction, and the ids of the events not seen before (the ones to handle).
    pub async fn inbox_begin_many(
        &self,
        consumer: &str,
        tenant: TenantId,
        events: &[&EventEnvelope],
    ) -> Result<(InboxTx, HashSet<EventId>), StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        if events.is_empty() {
            return Ok((InboxTx(tx), HashSet::new()));
        }
        let now = Utc::now();
        let mut insert = inbox_insert(consumer, events.iter().map(|e| (e.id.into_uuid(), now)));
        insert.returning_col(Alias::new("event_id"));
        let rows = tx
            .query_all(tx.get_database_backend().build(&insert))
            .await
            .map_err(store_err)?;
        let fresh = rows
            .iter()
            .map(|r| r.try_get::<Uuid>("", "event_id").map(EventId::from_uuid))
            .collect::<Result<HashSet<_>, _>>()
            .map_err(store_err)?;
        Ok((InboxTx(tx), fresh))
    }

    /// Adds one event's increment to the orders-per-day read model, inside the inbox entry.
    pub async fn apply_daily_orders(
        &self,
        inbox: &InboxTx,
        inc: &DailyIncrement,
    ) -> Result<(), StoreError> {
        let table = Alias::new("analytics_daily_orders");
        let sum = |col: &str| Expr::cust(format!("analytics_daily_orders.{col} + excluded.{col}"));
        let upsert = Query::insert()
            .into_table(table)
            .columns([
                Alias::new("tenant_id"),
                Alias::new("day"),
                Alias::new("channel"),
                Alias::new("created"),
                Alias::new("cancelled"),
                Alias::new("revenue_minor"),
            ])
            .values_panic([
                inc.tenant_id.into_uuid().into(),
                inc.day.format("%Y-%m-%d").to_string().into(),
                inc.channel.clone().into(),
                (inc.count.created as i64).into(),
                (inc.count.cancelled as i64).into(),
                inc.count.revenue_minor.into(),
            ])
            .on_conflict(
                OnConflict::columns([
                    Alias::new("tenant_id"),
                    Alias::new("day"),
                    Alias::new("channel"),
                ])
                .values([
                    (Alias::new("created"), sum("created")),
                    (Alias::new("cancelled"), sum("cancelled")),
                    (Alias::new("revenue_minor"), sum("revenue_minor")),
                ])
                .to_owned(),
            )
            .to_owned();
        inbox
            .0
            .execute(inbox.0.get_database_backend().build(&upsert))
            .await
            .map_err(store_err)?;
        Ok(())
    }

    /// The orders-per-day rows of a tenant: `(day, channel, created, cancelled, revenue_minor)`.
    pub async fn daily_orders(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(String, String, i64, i64, i64)>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let select = Query::select()
                .columns([
                    Alias::new("day"),
                    Alias::new("channel"),
                    Alias::new("created"),
                    Alias::new("cancelled"),
                    Alias::new("revenue_minor"),
                ])
                .from(Alias::new("analytics_daily_orders"))
                .and_where(Expr::col(Alias::new("tenant_id")).eq(tenant.into_uuid()))
                .order_by(Alias::new("day"), sea_orm::Order::Asc)
                .order_by(Alias::new("channel"), sea_orm::Order::Asc)
                .to_owned();
            let rows = tx
                .query_all(tx.get_database_backend().build(&select))
                .await
                .map_err(store_err)?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("", "day").map_err(store_err)?,
                        r.try_get("", "channel").map_err(store_err)?,
                        r.try_get("", "created").map_err(store_err)?,
                        r.try_get("", "cancelled").map_err(store_err)?,
                        r.try_get("", "revenue_minor").map_err(store_err)?,
                    ))
                })
                .collect()
        })
        .await
    }

    /// Records an event an in-process consumer gave up on (RabbitMQ keeps its own in a DLQ).
    pub async fn record_dead_letter(
        &self,
        consumer: &str,
        event: &EventEnvelope,
        error: &str,
    ) -> Result<(), StoreError> {
        self.in_tenant(event.tenant_id, async |tx| {
            dead_letter::Entity::insert(dead_letter::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                consumer: Set(consumer.to_owned()),
                event_id: Set(event.id.into_uuid()),
                event_type: Set(event.event_type.clone()),
                tenant_id: Set(event.tenant_id.into_uuid()),
                event: Set(serde_json::to_value(event).map_err(StoreError::from_source)?),
                error: Set(error.to_owned()),
                failed_at: Set(Utc::now()),
            })
            .exec_without_returning(tx)
            .await
            .map_err(store_err)?;
            Ok(())
        })
        .await
    }

    /// In-process dead letters, oldest first; of one consumer when given.
    pub async fn dead_letters(
        &self,
        consumer: Option<&str>,
        limit: u64,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        // All tenants: operators list and replay dead letters across the platform.
        self.across_tenants(async |tx| {
            let mut query = dead_letter::Entity::find()
                .order_by_asc(dead_letter::Column::Id)
                .limit(limit);
            if let Some(consumer) = consumer {
                query = query.filter(dead_letter::Column::Consumer.eq(consumer));
            }
            let rows = query.all(tx).await.map_err(store_err)?;
            rows.into_iter()
                .map(|m| {
                    Ok(DeadLetter {
                        id: m.id,
                        consumer: m.consumer,
                        event: serde_json::from_value(m.event).map_err(StoreError::from_source)?,
                        error: m.error,
                        failed_at: m.failed_at,
                    })
                })
                .collect()
        })
        .await
    }

    /// Forgets a dead letter once it has been replayed successfully.
    pub async fn delete_dead_letter(&self, id: uuid::Uuid) -> Result<(), StoreError> {
        // All tenants: operators replay dead letters across the platform (by id).
        self.across_tenants(async |tx| {
            dead_letter::Entity::delete_by_id(id)
                .exec(tx)
                .await
                .map_err(store_err)?;
            Ok(())
        })
        .await
    }
}
