//! The transactional outbox: events are inserted in the same transaction as the change that
//! caused them, and a relay later hands them on and marks them published.

use crate::entities::outbox_event;
use crate::write_behind::{InsertRows, LedgerConn, Write, insert_rows};
use crate::{SqlStore, store_err};
use chrono::{DateTime, Utc};
use kernel::{CorrelationId, EventEnvelope, EventId, StoreError, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// An event as stored, with whether it has been handed on yet.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub event: EventEnvelope,
    pub published_at: Option<DateTime<Utc>>,
}

pub(crate) async fn append(
    conn: &impl ConnectionTrait,
    events: &[EventEnvelope],
) -> Result<(), StoreError> {
    let Some(insert) = insert(events) else {
        return Ok(());
    };
    conn.execute(Write::from(insert).statement(conn.get_database_backend()))
        .await
        .map_err(store_err)?;
    Ok(())
}

/// [`append`] through a unit of work that may send it with its other writes.
pub(crate) async fn append_to(
    conn: &mut impl LedgerConn,
    events: &[EventEnvelope],
) -> Result<(), StoreError> {
    match insert(events) {
        Some(insert) => conn.write(insert.into()).await,
        None => Ok(()),
    }
}

fn insert(events: &[EventEnvelope]) -> Option<InsertRows> {
    insert_rows(events.iter().map(|e| outbox_event::ActiveModel {
        id: Set(e.id.into_uuid()),
        tenant_id: Set(e.tenant_id.into_uuid()),
        event_type: Set(e.event_type.clone()),
        aggregate_type: Set(e.aggregate_type.clone()),
        aggregate_id: Set(e.aggregate_id),
        aggregate_version: Set(e.version),
        payload: Set(e.payload.clone()),
        correlation_id: Set(e.correlation_id.map(|c| c.0)),
        occurred_at: Set(e.occurred_at),
        published_at: Set(None),
        traceparent: Set(e.traceparent.clone()),
    }))
}

pub(crate) fn to_row(m: outbox_event::Model) -> OutboxRow {
    OutboxRow {
        event: EventEnvelope {
            id: EventId::from_uuid(m.id),
            event_type: m.event_type,
            tenant_id: TenantId::from_uuid(m.tenant_id),
            occurred_at: m.occurred_at,
            aggregate_type: m.aggregate_type,
            aggregate_id: m.aggregate_id,
            version: m.aggregate_version,
            payload: m.payload,
            correlation_id: m.correlation_id.map(CorrelationId),
            traceparent: m.traceparent,
        },
        published_at: m.published_at,
    }
}

impl SqlStore {
    /// Appends events outside any business transaction: for operational tools and tests.
    pub async fn append_outbox(&self, events: &[EventEnvelope]) -> Result<(), StoreError> {
        // All tenants: operational tools and tests append events of any tenant.
        self.across_tenants(async |tx| append(tx, events).await)
            .await
    }

    /// A tenant's events with id above `floor`, oldest first, of the given type prefixes
    /// (`"order."`), at most `limit`: the live stream's query.
    pub async fn events_since(
        &self,
        tenant: TenantId,
        floor: uuid::Uuid,
        type_prefixes: &[String],
        limit: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let mut types = sea_orm::Condition::any();
            for prefix in type_prefixes {
                types = types.add(outbox_event::Column::EventType.starts_with(prefix.as_str()));
            }
            let rows = outbox_event::Entity::find()
                .filter(outbox_event::Column::TenantId.eq(tenant.into_uuid()))
                .filter(outbox_event::Column::Id.gt(floor))
                .filter(types)
                .order_by_asc(outbox_event::Column::Id)
                .limit(limit)
                .all(tx)
                .await
                .map_err(store_err)?;
            Ok(rows.into_iter().map(|m| to_row(m).event).collect())
        })
        .await
    }

    /// A tenant's events, oldest first: for tests and the audit trail.
    pub async fn events_of(&self, tenant: TenantId) -> Result<Vec<OutboxRow>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let rows = outbox_event::Entity::find()
                .filter(outbox_event::Column::TenantId.eq(tenant.into_uuid()))
                .order_by_asc(outbox_event::Column::Id)
                .all(tx)
                .await
                .map_err(store_err)?;
            Ok(rows.into_iter().map(to_row).collect())
        })
        .await
    }
}
