//! Webhook subscriptions and deliveries.

use crate::entities::{webhook_delivery as delivery, webhook_subscription as subscription};
use crate::{InboxTx, SqlStore, store_err};
use chrono::{DateTime, Utc};
use integration::webhook::{EventPattern, Subscription, WebhookUrl};
use kernel::{EventEnvelope, StoreError, TenantId};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::time::Duration;
use uuid::Uuid;

/// A delivery as stored: its state and last outcome.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// `pending`, `succeeded` or `dead`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A delivery claimed for sending, with what the sender needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery: Delivery,
    pub tenant_id: TenantId,
    pub url: String,
    pub secret: String,
    pub body: Vec<u8>,
}

fn to_delivery(m: &delivery::Model) -> Delivery {
    Delivery {
        id: m.id,
        subscription_id: m.subscription_id,
        event_id: m.event_id,
        event_type: m.event_type.clone(),
        status: m.status.clone(),
        attempts: m.attempts.max(0) as u32,
        next_attempt_at: m.next_attempt_at,
        last_status_code: m.last_status_code.map(|c| c.clamp(0, 999) as u16),
        last_error: m.last_error.clone(),
        created_at: m.created_at,
        delivered_at: m.delivered_at,
    }
}

fn to_subscription(m: subscription::Model) -> Result<Subscription, StoreError> {
    let events: Vec<String> = serde_json::from_value(m.events).map_err(StoreError::from_source)?;
    Ok(Subscription {
        id: m.id,
        tenant_id: TenantId::from_uuid(m.tenant_id),
        // Checked when created; delivery checks the resolved address again.
        url: WebhookUrl::parse(&m.url, true).map_err(StoreError::from_source)?,
        events: events
            .iter()
            .map(|e| EventPattern::parse(e).map_err(StoreError::new))
            .collect::<Result<_, _>>()?,
        active: m.active,
        consecutive_failures: m.consecutive_failures.max(0) as u32,
        created_at: m.created_at,
    })
}

impl SqlStore {
    pub async fn insert_subscription(
        &self,
        s: &Subscription,
        secret: &str,
    ) -> Result<(), StoreError> {
        self.in_tenant(s.tenant_id, async |tx| {
            subscription::Entity::insert(subscription::ActiveModel {
                id: Set(s.id),
                tenant_id: Set(s.tenant_id.into_uuid()),
                url: Set(s.url.as_str().to_owned()),
                events: Set(serde_json::json!(
                    s.events.iter().map(|e| e.as_str()).collect::<Vec<_>>()
                )),
                secret: Set(secret.to_owned()),
                active: Set(s.active),
                consecutive_failures: Set(s.consecutive_failures as i32),
                created_at: Set(s.created_at),
            })
            .exec_without_returning(tx)
            .await
            .map_err(store_err)?;
            Ok(())
        })
        .await
    }

    pub async fn subscriptions(&self, tenant: TenantId) -> Result<Vec<Subscription>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            subscription::Entity::find()
                .filter(subscription::Column::TenantId.eq(tenant.into_uuid()))
                .order_by_asc(subscription::Column::Id)
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(to_subscription)
                .collect()
        })
        .await
    }

    /// Removes a subscription and its deliveries; false if the tenant has no such subscription.
    pub async fn delete_subscription(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let result = subscription::Entity::delete_many()
                .filter(subscription::Column::TenantId.eq(tenant.into_uuid()))
                .filter(subscription::Column::Id.eq(id))
                .exec(tx)
                .await
                .map_err(store_err)?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    /// Creates a pending delivery of `event` for each active subscription of its tenant that
    /// wants it, inside the consumer's inbox entry. Returns how many.
    pub async fn fan_out_webhooks(
        &self,
        inbox: &InboxTx,
        event: &EventEnvelope,
    ) -> Result<usize, StoreError> {
        self.fan_out_webhooks_many(inbox, event.tenant_id, &[event])
            .await
    }

    /// [`fan_out_webhooks`](Self::fan_out_webhooks) for several events of one tenant: one
    /// read of its subscriptions, one insert of every delivery.
    pub async fn fan_out_webhooks_many(
        &self,
        inbox: &InboxTx,
        tenant: kernel::TenantId,
        events: &[&EventEnvelope],
    ) -> Result<usize, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let subs = subscription::Entity::find()
            .filter(subscription::Column::TenantId.eq(tenant.into_uuid()))
            .filter(subscription::Column::Active.eq(true))
            .all(inbox.connection())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_subscription)
            .collect::<Result<Vec<_>, _>>()?;
        if subs.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        let mut rows: Vec<delivery::ActiveModel> = Vec::new();
        for event in events {
            let payload = serde_json::to_value(event).map_err(StoreError::from_source)?;
            rows.extend(subs.iter().filter(|s| s.wants(&event.event_type)).map(|s| {
                delivery::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(event.tenant_id.into_uuid()),
                    subscription_id: Set(s.id),
                    event_id: Set(event.id.into_uuid()),
                    event_type: Set(event.event_type.clone()),
                    payload: Set(payload.clone()),
                    status: Set("pending".into()),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    last_status_code: Set(None),
                    last_error: Set(None),
                    created_at: Set(now),
                    delivered_at: Set(None),
                }
            }));
        }
        let count = rows.len();
        // Bounded statements (SQLite caps bound values): 200 deliveries × 13 columns.
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(200).collect();
            delivery::Entity::insert_many(chunk)
                .on_conflict(
                    OnConflict::columns([
                        delivery::Column::SubscriptionId,
                        delivery::Column::EventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .do_nothing()
                .exec_without_returning(inbox.connection())
                .await
                .map_err(store_err)?;
        }
        Ok(count)
    }

    /// Claims up to `limit` deliveries that are due, leasing them for `lease` so another
    /// dispatcher does not send them meanwhile (`SKIP LOCKED` on PostgreSQL).
    pub async fn claim_due_deliveries(
        &self,
        limit: u64,
        lease: Duration,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        // All tenants: the dispatcher sweeps due deliveries of every tenant.
        let tx = self.begin_all_tenants().await?;
        let now = Utc::now();
        let mut query = delivery::Entity::find()
            .filter(delivery::Column::Status.eq("pending"))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(delivery::Column::NextAttemptAt)
            .limit(limit);
        if tx.get_database_backend() == DatabaseBackend::Postgres {
            query = query.lock_with_behavior(
                sea_orm::sea_query::LockType::Update,
                sea_orm::sea_query::LockBehavior::SkipLocked,
            );
        }
        let due = query.all(&tx).await.map_err(store_err)?;
        if due.is_empty() {
            tx.commit().await.map_err(store_err)?;
            return Ok(Vec::new());
        }
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        delivery::Entity::update_many()
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(lease_until))
            .filter(delivery::Column::Id.is_in(due.iter().map(|d| d.id)))
            .exec(&tx)
            .await
            .map_err(store_err)?;
        let subs = subscription::Entity::find()
            .filter(subscription::Column::Id.is_in(due.iter().map(|d| d.subscription_id)))
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(due
            .iter()
            .filter_map(|d| {
                let s = subs.iter().find(|s| s.id == d.subscription_id)?;
                Some(DueDelivery {
                    delivery: to_delivery(d),
                    tenant_id: TenantId::from_uuid(d.tenant_id),
                    url: s.url.clone(),
                    secret: s.secret.clone(),
                    body: serde_json::to_vec(&d.payload).unwrap_or_default(),
                })
            })
            .collect())
    }

    pub async fn record_delivery_success(
        &self,
        d: &DueDelivery,
        status: u16,
    ) -> Result<(), StoreError> {
        let now = Utc::now();

        self.in_tenant(d.tenant_id, async |tx| {
            delivery::Entity::update_many()
                .col_expr(delivery::Column::Status, Expr::value("succeeded"))
                .col_expr(
                    delivery::Column::Attempts,
                    Expr::value(d.delivery.attempts as i32 + 1),
                )
                .col_expr(
                    delivery::Column::LastStatusCode,
                    Expr::value(i32::from(status)),
                )
                .col_expr(
                    delivery::Column::LastError,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(delivery::Column::DeliveredAt, Expr::value(now))
                .filter(delivery::Column::Id.eq(d.delivery.id))
                .exec(tx)
                .await
                .map_err(store_err)?;
            subscription::Entity::update_many()
                .col_expr(subscription::Column::ConsecutiveFailures, Expr::value(0))
                .filter(subscription::Column::Id.eq(d.delivery.subscription_id))
                .exec(tx)
                .await
                .map_err(store_err)?;
            Ok(())
        })
        .await
    }

    /// Records a failed attempt: retried at `retry_at`, or dead when `None`. Counts the failure
    /// against the subscription and returns it if this failure disabled it.
    pub async fn record_delivery_failure(
        &self,
        d: &DueDelivery,
        status: Option<u16>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<Option<Subscription>, StoreError> {
        let tx = self.begin_tenant(d.tenant_id).await?;
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(if retry_at.is_some() {
                    "pending"
                } else {
                    "dead"
                }),
            )
            .col_expr(
                delivery::Column::Attempts,
                Expr::value(d.delivery.attempts as i32 + 1),
            )
            .col_expr(
                delivery::Column::LastStatusCode,
                Expr::value(status.map(i32::from)),
            )
            .col_expr(
                delivery::Column::LastError,
                Expr::value(error.chars().take(500).collect::<String>()),
            )
            .col_expr(
                delivery::Column::NextAttemptAt,
                Expr::value(retry_at.unwrap_or_else(Utc::now)),
            )
            .filter(delivery::Column::Id.eq(d.delivery.id))
            .exec(&tx)
            .await
            .map_err(store_err)?;
        let mut disabled = None;
        if let Some(row) = subscription::Entity::find_by_id(d.delivery.subscription_id)
            .lock_exclusive()
            .one(&tx)
            .await
            .map_err(store_err)?
        {
            let mut sub = to_subscription(row)?;
            let now_disabled = sub.record_failure();
            subscription::Entity::update_many()
                .col_expr(
                    subscription::Column::ConsecutiveFailures,
                    Expr::value(sub.consecutive_failures as i32),
                )
                .col_expr(subscription::Column::Active, Expr::value(sub.active))
                .filter(subscription::Column::Id.eq(sub.id))
                .exec(&tx)
                .await
                .map_err(store_err)?;
            if now_disabled {
                disabled = Some(sub);
            }
        }
        tx.commit().await.map_err(store_err)?;
        Ok(disabled)
    }

    /// A subscription's deliveries, newest first; `None` if the tenant has no such subscription.
    pub async fn deliveries(
        &self,
        tenant: TenantId,
        subscription_id: Uuid,
        limit: u64,
    ) -> Result<Option<Vec<Delivery>>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let owned = subscription::Entity::find_by_id(subscription_id)
                .filter(subscription::Column::TenantId.eq(tenant.into_uuid()))
                .one(tx)
                .await
                .map_err(store_err)?;
            if owned.is_none() {
                return Ok(None);
            }
            let rows = delivery::Entity::find()
                .filter(delivery::Column::SubscriptionId.eq(subscription_id))
                .order_by_desc(delivery::Column::Id)
                .limit(limit)
                .all(tx)
                .await
                .map_err(store_err)?;
            Ok(Some(rows.iter().map(to_delivery).collect()))
        })
        .await
    }

    /// Sends a delivery again now, with a fresh set of attempts. False if not the tenant's.
    pub async fn replay_delivery(
        &self,
        tenant: TenantId,
        subscription_id: Uuid,
        delivery_id: Uuid,
    ) -> Result<bool, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let result = delivery::Entity::update_many()
                .col_expr(delivery::Column::Status, Expr::value("pending"))
                .col_expr(delivery::Column::Attempts, Expr::value(0))
                .col_expr(delivery::Column::NextAttemptAt, Expr::value(Utc::now()))
                .filter(delivery::Column::TenantId.eq(tenant.into_uuid()))
                .filter(delivery::Column::SubscriptionId.eq(subscription_id))
                .filter(delivery::Column::Id.eq(delivery_id))
                .exec(tx)
                .await
                .map_err(store_err)?;
            Ok(result.rows_affected == 1)
        })
        .await
    }
}
