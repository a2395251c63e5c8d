//! Audit log (append-only: insert and read, never update or delete), GDPR export pages and
//! customer erasure.

use crate::entities::{
    api_key, audit_entry, kit_component, order as order_row, order_line, product, reservation_hold,
    stock_level, stock_movement, stock_transfer, user, warehouse, webhook_subscription,
};
use crate::notifications::{log_row as notification_log, template_row as notification_template};
use crate::{SqlStore, store_err};
use identity::audit::{AuditEntry, AuditFilter};
use kernel::{Page, PageRequest, StoreError, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

/// The sections of a tenant export, in the order they are written.
pub const EXPORT_SECTIONS: [&str; 17] = [
    "users",
    "api_keys",
    "warehouses",
    "products",
    "kit_components",
    "stock_levels",
    "stock_movements",
    "reservation_holds",
    "stock_transfers",
    "orders",
    "order_lines",
    "order_status_history",
    "shipments",
    "allocation_rules",
    "webhook_subscriptions",
    "notification_templates",
    "notification_log",
];

impl SqlStore {
    /// Appends entries in one statement (the audit writer batches them).
    pub async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }

        // All tenants: the audit writer batches entries of many tenants, and platform entries
        // (no tenant) too.
        self.across_tenants(async |tx| {
            audit_entry::Entity::insert_many(entries.iter().map(|e| audit_entry::ActiveModel {
                id: Set(e.id),
                tenant_id: Set(e.tenant_id.map(TenantId::into_uuid)),
                actor: Set(e.actor.clone()),
                action: Set(e.action.clone()),
                target: Set(e.target.clone()),
                request_id: Set(e.request_id.clone()),
                outcome: Set(i32::from(e.outcome)),
                occurred_at: Set(e.occurred_at),
            }))
            .exec_without_returning(tx)
            .await
            .map_err(store_err)?;
            Ok(())
        })
        .await
    }

    /// The tenant's audit entries, newest first, keyset-paginated by id.
    pub async fn list_audit(
        &self,
        tenant: TenantId,
        filter: &AuditFilter,
        page: PageRequest<Uuid>,
    ) -> Result<Page<AuditEntry, Uuid>, StoreError> {
        let mut q = audit_entry::Entity::find()
            .filter(audit_entry::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_desc(audit_entry::Column::Id)
            .limit(u64::from(page.limit) + 1);
        if let Some(after) = page.after {
            q = q.filter(audit_entry::Column::Id.lt(after));
        }
        if let Some(actor) = &filter.actor {
            q = q.filter(audit_entry::Column::Actor.eq(actor.clone()));
        }
        if let Some(prefix) = &filter.action_prefix {
            q = q.filter(audit_entry::Column::Action.starts_with(prefix.clone()));
        }
        if let Some(since) = filter.since {
            q = q.filter(audit_entry::Column::OccurredAt.gte(since));
        }
        if let Some(until) = filter.until {
            q = q.filter(audit_entry::Column::OccurredAt.lt(until));
        }
        match filter.failed {
            Some(true) => q = q.filter(audit_entry::Column::Outcome.gte(400)),
            Some(false) => q = q.filter(audit_entry::Column::Outcome.lt(400)),
            None => {}
        }

        self.in_tenant(tenant, async |tx| {
            let rows = q.all(tx).await.map_err(store_err)?;
            let items = rows
                .into_iter()
                .map(|r| AuditEntry {
                    id: r.id,
                    tenant_id: r.tenant_id.map(TenantId::from_uuid),
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    request_id: r.request_id,
                    outcome: u16::try_from(r.outcome).unwrap_or(0),
                    occurred_at: r.occurred_at,
                })
                .collect();
            Ok(Page::from_overfetch(items, page.limit, |e: &AuditEntry| {
                e.id
            }))
        })
        .await
    }

    /// One page (by offset, in primary-key order) of one export section, as JSON objects.
    /// Secrets (password and key hashes, TOTP secrets, webhook secrets) are left out.
    pub async fn export_page(
        &self,
        tenant: TenantId,
        section: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let t = tenant.into_uuid();
            macro_rules! page {
                ($entity:ident, $order:expr, $omit:expr) => {
                    page!($entity, $order, $order, $omit)
                };
                ($entity:ident, $order:expr, $then:expr, $omit:expr) => {{
                    let rows = $entity::Entity::find()
                        .filter($entity::Column::TenantId.eq(t))
                        .order_by_asc($order)
                        .order_by_asc($then)
                        .offset(offset)
                        .limit(limit)
                        .into_json()
                        .all(tx)
                        .await
                        .map_err(store_err)?;
                    rows.into_iter()
                        .map(|mut v| {
                            if let Some(o) = v.as_object_mut() {
                                for k in $omit {
                                    o.remove(k);
                                }
                            }
                            v
                        })
                        .collect()
                }};
            }

            const NONE: [&str; 0] = [];
            Ok(match section {
                "users" => page!(
                    user,
                    user::Column::Id,
                    ["password_hash", "totp_secret", "recovery_codes"]
                ),
                "api_keys" => page!(api_key, api_key::Column::Id, ["hash"]),
                "products" => page!(product, product::Column::Id, NONE),
                "warehouses" => page!(warehouse, warehouse::Column::Id, NONE),
                "kit_components" => page!(
                    kit_component,
                    kit_component::Column::KitSku,
                    kit_component::Column::ComponentSku,
                    NONE
                ),
                "stock_levels" => page!(
                    stock_level,
                    stock_level::Column::Sku,
                    stock_level::Column::WarehouseId,
                    NONE
                ),
                "reservation_holds" => page!(reservation_hold, reservation_hold::Column::Id, NONE),
                "stock_transfers" => page!(stock_transfer, stock_transfer::Column::Id, NONE),
                "stock_movements" => page!(stock_movement, stock_movement::Column::Id, NONE),
                "orders" => page!(order_row, order_row::Column::Id, NONE),
                "order_lines" => page!(
                    order_line,
                    order_line::Column::OrderId,
                    order_line::Column::LineNo,
                    NONE
                ),
                "webhook_subscriptions" => {
                    page!(
                        webhook_subscription,
                        webhook_subscription::Column::Id,
                        ["secret"]
                    )
                }
                "notification_templates" => page!(
                    notification_template,
                    notification_template::Column::Kind,
                    NONE
                ),
                "notification_log" => page!(notification_log, notification_log::Column::Id, NONE),
                _ => Vec::new(),
            })
        })
        .await
    }

    /// Anonymises the ship-to of every order of the tenant whose customer email is `email`
    /// (case-insensitive): names, street, phone and email go; country, lines and totals stay. The
    /// notification log forgets the address too.
    /// Returns how many orders were changed.
    pub async fn erase_customer(&self, tenant: TenantId, email: &str) -> Result<u64, StoreError> {
        let backend = self.db.get_database_backend();
        let anonymous = serde_json::json!({
            "name": "erased", "company": null, "line1": "erased", "line2": null,
            "city": "erased", "region": null, "postal_code": null, "phone": null, "email": null,
        });
        let tx = self.begin_tenant(tenant).await?;
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "UPDATE orders SET ship_to = jsonb_set($1::jsonb, '{country}', ship_to->'country'), \
                 customer_email = NULL, version = version + 1, updated_at = $2 \
                 WHERE tenant_id = $3 AND customer_email = $4"
            }
            _ => {
                "UPDATE orders SET ship_to = json_set($1, '$.country', json_extract(ship_to, '$.country')), \
                 customer_email = NULL, version = version + 1, updated_at = $2 \
                 WHERE tenant_id = $3 AND customer_email = $4"
            }
        };
        let ship_to: sea_orm::Value = match backend {
            DatabaseBackend::Postgres => anonymous.into(),
            _ => anonymous.to_string().into(),
        };
        let done = tx
            .execute(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    ship_to,
                    chrono::Utc::now().into(),
                    tenant.into_uuid().into(),
                    email.trim().to_lowercase().into(),
                ],
            ))
            .await
            .map_err(store_err)?;
        // The notification log keeps what was sent, but no longer to whom.
        Self::erase_notification_recipient(&tx, tenant, email).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(done.rows_affected())
    }
}
