//! Customer notifications: the tenant's templates, the log of what was sent (written with the
//! consumer's inbox record in one transaction), and the recipient of an order.

use crate::entities::order as order_row;
use crate::{SqlStore, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Page, PageRequest, StoreError, TenantId};
use notification::{
    DeliveryStatus, LogEntry, MessageKind, NotificationLog, Recipient, Recipients, Template,
    TemplateStore,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub mod template_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_templates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        pub subject: String,
        pub body: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod log_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub event_id: Uuid,
        pub kind: String,
        pub order_id: Option<Uuid>,
        pub recipient: Option<String>,
        pub status: String,
        pub error: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

fn to_template(m: template_row::Model) -> Result<Template, StoreError> {
    Ok(Template {
        kind: MessageKind::parse(&m.kind).map_err(StoreError::from_source)?,
        subject: m.subject,
        body: m.body,
    })
}

fn to_entry(m: log_row::Model) -> Result<LogEntry, StoreError> {
    Ok(LogEntry {
        id: m.id,
        tenant_id: TenantId::from_uuid(m.tenant_id),
        event_id: m.event_id,
        kind: MessageKind::parse(&m.kind).map_err(StoreError::from_source)?,
        order_id: m.order_id,
        recipient: m.recipient,
        status: DeliveryStatus::parse(&m.status)
            .ok_or_else(|| StoreError::new(format!("unknown notification status {}", m.status)))?,
        error: m.error,
        created_at: m.created_at,
    })
}

#[async_trait]
impl TemplateStore for SqlStore {
    async fn find_template(
        &self,
        tenant: TenantId,
        kind: MessageKind,
    ) -> Result<Option<Template>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            template_row::Entity::find_by_id((tenant.into_uuid(), kind.as_str().to_owned()))
                .one(tx)
                .await
                .map_err(store_err)?
                .map(to_template)
                .transpose()
        })
        .await
    }

    async fn overrides(&self, tenant: TenantId) -> Result<Vec<Template>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            template_row::Entity::find()
                .filter(template_row::Column::TenantId.eq(tenant.into_uuid()))
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(to_template)
                .collect()
        })
        .await
    }

    async fn save_template(
        &self,
        tenant: TenantId,
        template: &Template,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        template_row::Entity::insert(template_row::ActiveModel {
            tenant_id: Set(tenant.into_uuid()),
            kind: Set(template.kind.as_str().to_owned()),
            subject: Set(template.subject.clone()),
            body: Set(template.body.clone()),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([template_row::Column::TenantId, template_row::Column::Kind])
                .update_columns([
                    template_row::Column::Subject,
                    template_row::Column::Body,
                    template_row::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }

    async fn delete_template(
        &self,
        tenant: TenantId,
        kind: MessageKind,
    ) -> Result<bool, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let done = template_row::Entity::delete_many()
            .filter(template_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(template_row::Column::Kind.eq(kind.as_str()))
            .exec(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(done.rows_affected == 1)
    }
}

#[async_trait]
impl NotificationLog for SqlStore {
    async fn is_recorded(&self, tenant: TenantId, event_id: Uuid) -> Result<bool, StoreError> {
        self.in_tenant(tenant, async |tx| {
            Ok(log_row::Entity::find()
                .filter(log_row::Column::TenantId.eq(tenant.into_uuid()))
                .filter(log_row::Column::EventId.eq(event_id))
                .one(tx)
                .await
                .map_err(store_err)?
                .is_some())
        })
        .await
    }

    /// The entry and the consumer's inbox record commit together; a second entry for the same
    /// event is ignored (the first one stands).
    async fn record(&self, entry: &LogEntry) -> Result<(), StoreError> {
        self.record_many(std::slice::from_ref(entry)).await
    }

    async fn recorded_among(
        &self,
        tenant: TenantId,
        event_ids: &[Uuid],
    ) -> Result<HashSet<Uuid>, StoreError> {
        if event_ids.is_empty() {
            return Ok(HashSet::new());
        }
        self.in_tenant(tenant, async |tx| {
            let mut done = HashSet::new();
            for chunk in event_ids.chunks(500) {
                let rows: Vec<Uuid> = log_row::Entity::find()
                    .select_only()
                    .column(log_row::Column::EventId)
                    .filter(log_row::Column::TenantId.eq(tenant.into_uuid()))
                    .filter(log_row::Column::EventId.is_in(chunk.iter().copied()))
                    .into_tuple()
                    .all(tx)
                    .await
                    .map_err(store_err)?;
                done.extend(rows);
            }
            Ok(done)
        })
        .await
    }

    /// Each tenant's entries and inbox records in one transaction, 200 rows a statement.
    async fn record_many(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        let mut tenants: Vec<TenantId> = entries.iter().map(|e| e.tenant_id).collect();
        tenants.sort_by_key(|t| t.into_uuid());
        tenants.dedup();
        for tenant in tenants {
            let mine: Vec<&LogEntry> = entries.iter().filter(|e| e.tenant_id == tenant).collect();
            let tx = self.begin_tenant(tenant).await?;
            for chunk in mine.chunks(200) {
                let inbox = crate::events::inbox_insert(
                    notification::CONSUMER,
                    chunk.iter().map(|e| (e.event_id, e.created_at)),
                );
                tx.execute(tx.get_database_backend().build(&inbox))
                    .await
                    .map_err(store_err)?;
                log_row::Entity::insert_many(chunk.iter().map(|entry| log_row::ActiveModel {
                    id: Set(entry.id),
                    tenant_id: Set(entry.tenant_id.into_uuid()),
                    event_id: Set(entry.event_id),
                    kind: Set(entry.kind.as_str().to_owned()),
                    order_id: Set(entry.order_id),
                    recipient: Set(entry.recipient.clone()),
                    status: Set(entry.status.as_str().to_owned()),
                    error: Set(entry.error.clone()),
                    created_at: Set(entry.created_at),
                }))
                .on_conflict(
                    OnConflict::column(log_row::Column::EventId)
                        .do_nothing()
                        .to_owned(),
                )
                .do_nothing()
                .exec_without_returning(&tx)
                .await
                .map_err(store_err)?;
            }
            tx.commit().await.map_err(store_err)?;
        }
        Ok(())
    }

    async fn entries(
        &self,
        tenant: TenantId,
        order_id: Option<Uuid>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<LogEntry, Uuid>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let mut q = log_row::Entity::find()
                .filter(log_row::Column::TenantId.eq(tenant.into_uuid()))
                .order_by_desc(log_row::Column::Id)
                .limit(u64::from(page.limit) + 1);
            if let Some(order) = order_id {
                q = q.filter(log_row::Column::OrderId.eq(order));
            }
            if let Some(after) = page.after {
                q = q.filter(log_row::Column::Id.lt(after));
            }
            let rows = q
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(to_entry)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(rows, page.limit, |e: &LogEntry| e.id))
        })
        .await
    }
}

#[async_trait]
impl Recipients for SqlStore {
    async fn of_order(
        &self,
        tenant: TenantId,
        order_id: Uuid,
    ) -> Result<Option<Recipient>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let row = order_row::Entity::find_by_id(order_id)
                .filter(order_row::Column::TenantId.eq(tenant.into_uuid()))
                .one(tx)
                .await
                .map_err(store_err)?;
            Ok(row.map(|o| recipient(&o.ship_to)))
        })
        .await
    }

    async fn account_owner(&self, tenant: TenantId) -> Result<Option<Recipient>, StoreError> {
        self.account_contact(tenant).await
    }

    async fn of_orders(
        &self,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Recipient>, StoreError> {
        if order_ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.in_tenant(tenant, async |tx| {
            let mut found = HashMap::new();
            for chunk in order_ids.chunks(500) {
                let rows: Vec<(Uuid, serde_json::Value)> = order_row::Entity::find()
                    .select_only()
                    .column(order_row::Column::Id)
                    .column(order_row::Column::ShipTo)
                    .filter(order_row::Column::TenantId.eq(tenant.into_uuid()))
                    .filter(order_row::Column::Id.is_in(chunk.iter().copied()))
                    .into_tuple()
                    .all(tx)
                    .await
                    .map_err(store_err)?;
                found.extend(
                    rows.into_iter()
                        .map(|(id, ship_to)| (id, recipient(&ship_to))),
                );
            }
            Ok(found)
        })
        .await
    }
}

impl SqlStore {
    /// The tenant's sign-up e-mail and company name (the account owner's contact).
    async fn account_contact(&self, tenant: TenantId) -> Result<Option<Recipient>, StoreError> {
        let id = tenant.into_uuid();
        let row = self
            .retrying_broken(async move |db| {
                crate::entities::tenant::Entity::find_by_id(id)
                    .one(db)
                    .await
            })
            .await?;
        Ok(row.map(|t| Recipient {
            name: t.company,
            email: Some(t.email).filter(|e| !e.trim().is_empty()),
        }))
    }

    /// Blanks the recipient of the tenant's log entries sent to `email` (customer erasure).
    pub(crate) async fn erase_notification_recipient(
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        email: &str,
    ) -> Result<u64, StoreError> {
        let done = log_row::Entity::update_many()
            .col_expr(
                log_row::Column::Recipient,
                sea_orm::sea_query::Expr::value(Option::<String>::None),
            )
            .filter(log_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(
                sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(
                    sea_orm::sea_query::Expr::col(log_row::Column::Recipient),
                ))
                .eq(email.trim().to_lowercase()),
            )
            .exec(conn)
            .await
            .map_err(store_err)?;
        Ok(done.rows_affected)
    }
}

/// An order's ship-to contact, blank fields as none.
fn recipient(ship_to: &serde_json::Value) -> Recipient {
    let text = |field: &str| {
        ship_to[field]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Recipient {
        name: text("name").unwrap_or_default(),
        email: text("email"),
    }
}
