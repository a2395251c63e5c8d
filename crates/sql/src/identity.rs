use crate::entities::{api_key, order as order_row, product, refresh_token, tenant, user};
use crate::{SqlStore, is_unique_violation, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use identity::ports::{
    ActiveKey, ApiKeyRepository, RefreshTokenRepository, TenantRepository, UserRepository,
};
use identity::token::RefreshToken;
use identity::{ApiKey, Plan, Role, Scope, Tenant, User};
use kernel::{ApiKeyId, StoreError, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Statement,
};
use uuid::Uuid;

fn scopes_json(scopes: &Option<Vec<Scope>>) -> Option<serde_json::Value> {
    scopes
        .as_ref()
        .map(|s| serde_json::json!(s.iter().map(|s| s.to_string()).collect::<Vec<_>>()))
}

fn scopes_from(json: Option<serde_json::Value>) -> Option<Vec<Scope>> {
    let list = json?;
    Some(
        list.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().and_then(Scope::parse))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

fn key_row(key: &ApiKey) -> api_key::ActiveModel {
    api_key::ActiveModel {
        id: Set(key.id.into_uuid()),
        tenant_id: Set(key.tenant_id.into_uuid()),
        name: Set(key.name.clone()),
        prefix: Set(key.prefix.clone()),
        hash: Set(key.hash.clone()),
        created_at: Set(key.created_at),
        revoked_at: Set(key.revoked_at),
        scopes: Set(scopes_json(&key.scopes)),
    }
}

fn user_row(u: &User) -> user::ActiveModel {
    user::ActiveModel {
        id: Set(u.id),
        tenant_id: Set(u.tenant_id.into_uuid()),
        email: Set(u.email.clone()),
        role: Set(u.role.as_str().to_owned()),
        password_hash: Set(u.password_hash.clone()),
        active: Set(u.active),
        totp_secret: Set(u.totp_secret.clone()),
        totp_enabled: Set(u.totp_enabled),
        recovery_codes: Set(serde_json::json!(u.recovery_codes)),
        created_at: Set(u.created_at),
        updated_at: Set(u.updated_at),
    }
}

fn to_user(m: user::Model) -> Result<User, StoreError> {
    Ok(User {
        id: m.id,
        tenant_id: TenantId::from_uuid(m.tenant_id),
        role: Role::parse(&m.role)
            .ok_or_else(|| StoreError::new(format!("unknown role {:?}", m.role)))?,
        email: m.email,
        password_hash: m.password_hash,
        active: m.active,
        totp_secret: m.totp_secret,
        totp_enabled: m.totp_enabled,
        recovery_codes: serde_json::from_value(m.recovery_codes).unwrap_or_default(),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_token(m: refresh_token::Model) -> RefreshToken {
    RefreshToken {
        id: m.id,
        tenant_id: TenantId::from_uuid(m.tenant_id),
        user_id: m.user_id,
        family_id: m.family_id,
        hash: m.hash,
        created_at: m.created_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
        revoked_at: m.revoked_at,
    }
}

#[async_trait]
impl TenantRepository for SqlStore {
    async fn create_with_key(
        &self,
        t: &Tenant,
        key: &ApiKey,
        owner: Option<User>,
    ) -> Result<bool, StoreError> {
        let tx = self.begin_tenant(t.id).await?;
        tenant::Entity::insert(tenant::ActiveModel {
            id: Set(t.id.into_uuid()),
            company: Set(t.company.clone()),
            email: Set(t.email.clone()),
            created_at: Set(t.created_at),
            plan_orders_per_day: Set(None),
            plan_max_skus: Set(None),
        })
        .exec_without_returning(&tx)
        .await
        .map_err(store_err)?;
        // Every tenant has a default warehouse from birth: stock changes that name no warehouse
        // land there, and products get their first stock row in it.
        let warehouse = inventory::NewWarehouse::default_for_signup()
            .validate(kernel::WarehouseId::new(), t.id, true, t.created_at)
            .map_err(StoreError::from_source)?;
        crate::entities::warehouse::Entity::insert(crate::inventory::warehouse_row(&warehouse)?)
            .exec_without_returning(&tx)
            .await
            .map_err(store_err)?;
        api_key::Entity::insert(key_row(key))
            .exec_without_returning(&tx)
            .await
            .map_err(store_err)?;
        if let Some(owner) = owner {
            match user::Entity::insert(user_row(&owner))
                .exec_without_returning(&tx)
                .await
            {
                Err(e) if is_unique_violation(&e) => return Ok(false),
                other => other.map_err(store_err)?,
            };
        }
        tx.commit().await.map_err(store_err)?;
        Ok(true)
    }

    async fn plan(&self, tenant: TenantId) -> Result<Plan, StoreError> {
        // `tenants` has no `tenant_id` column: not under row-level security, a plain query.
        let id = tenant.into_uuid();
        let row = self
            .retrying_broken(async move |db| tenant::Entity::find_by_id(id).one(db).await)
            .await?;
        Ok(row
            .map(|t| Plan {
                orders_per_day: t.plan_orders_per_day,
                max_skus: t.plan_max_skus,
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl ApiKeyRepository for SqlStore {
    async fn find_active_by_hash(&self, hash: &str) -> Result<Option<ActiveKey>, StoreError> {
        // All tenants: the key is what tells us the tenant. Every request runs this, so on
        // PostgreSQL in one prepared statement that sets the bypass for this query only
        // (`tote_active_api_key`, migration m20261201_000011) instead of four round trips.
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let hash = hash.to_owned();
            let row = self
                .retrying_broken(async move |db| {
                    db.query_one(Statement::from_sql_and_values(
                        DatabaseBackend::Postgres,
                        "SELECT id, tenant_id, scopes FROM tote_active_api_key($1)",
                        [hash.clone().into()],
                    ))
                    .await
                })
                .await?;
            return row
                .map(|r| {
                    Ok(ActiveKey {
                        id: ApiKeyId::from_uuid(r.try_get("", "id").map_err(store_err)?),
                        tenant_id: TenantId::from_uuid(
                            r.try_get("", "tenant_id").map_err(store_err)?,
                        ),
                        scopes: scopes_from(r.try_get("", "scopes").map_err(store_err)?),
                    })
                })
                .transpose();
        }
        // SQLite: no row-level security.
        let row = api_key::Entity::find()
            .filter(api_key::Column::Hash.eq(hash))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(&self.db)
            .await
            .map_err(store_err)?;
        Ok(row.map(|k| ActiveKey {
            tenant_id: TenantId::from_uuid(k.tenant_id),
            id: ApiKeyId::from_uuid(k.id),
            scopes: scopes_from(k.scopes),
        }))
    }

    async fn create(&self, key: &ApiKey) -> Result<(), StoreError> {
        self.in_tenant(key.tenant_id, async |tx| {
            api_key::Entity::insert(key_row(key))
                .exec_without_returning(tx)
                .await
                .map_err(store_err)
        })
        .await?;
        Ok(())
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<ApiKey>, StoreError> {
        let query = api_key::Entity::find()
            .filter(api_key::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_desc(api_key::Column::Id);
        let rows = self
            .in_tenant(tenant, async |tx| query.all(tx).await.map_err(store_err))
            .await?;
        Ok(rows
            .into_iter()
            .map(|k| ApiKey {
                id: ApiKeyId::from_uuid(k.id),
                tenant_id: TenantId::from_uuid(k.tenant_id),
                name: k.name,
                prefix: k.prefix,
                hash: k.hash,
                created_at: k.created_at,
                revoked_at: k.revoked_at,
                scopes: scopes_from(k.scopes),
            })
            .collect())
    }

    async fn revoke(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(at))
            .filter(api_key::Column::TenantId.eq(tenant.into_uuid()))
            .filter(api_key::Column::Id.eq(id.into_uuid()))
            .filter(api_key::Column::RevokedAt.is_null());
        let done = self
            .in_tenant(tenant, async |tx| update.exec(tx).await.map_err(store_err))
            .await?;
        Ok(done.rows_affected == 1)
    }
}

#[async_trait]
impl UserRepository for SqlStore {
    async fn insert(&self, u: &User) -> Result<bool, StoreError> {
        self.in_tenant(u.tenant_id, async |tx| {
            match user::Entity::insert(user_row(u))
                .exec_without_returning(tx)
                .await
            {
                Ok(_) => Ok(true),
                Err(e) if is_unique_violation(&e) => Ok(false),
                Err(e) => Err(store_err(e)),
            }
        })
        .await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let query = user::Entity::find().filter(user::Column::Email.eq(email));
        // All tenants: log-in by e-mail comes before the tenant is known (e-mails are unique).
        self.across_tenants(async |tx| query.one(tx).await.map_err(store_err))
            .await?
            .map(to_user)
            .transpose()
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<User>, StoreError> {
        let query =
            user::Entity::find_by_id(id).filter(user::Column::TenantId.eq(tenant.into_uuid()));
        self.in_tenant(tenant, async |tx| query.one(tx).await.map_err(store_err))
            .await?
            .map(to_user)
            .transpose()
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<User>, StoreError> {
        let query = user::Entity::find()
            .filter(user::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_asc(user::Column::Id);
        self.in_tenant(tenant, async |tx| query.all(tx).await.map_err(store_err))
            .await?
            .into_iter()
            .map(to_user)
            .collect()
    }

    async fn swap_recovery_codes(&self, u: &User, expected: &[String]) -> Result<bool, StoreError> {
        self.in_tenant(u.tenant_id, async |tx| {
            let current = user::Entity::find()
                .filter(user::Column::TenantId.eq(u.tenant_id.into_uuid()))
                .filter(user::Column::Id.eq(u.id))
                .one(tx)
                .await
                .map_err(store_err)?;
            // Compare-and-set on the whole list (portable, no JSON operators; the list is short),
            // guarded by `updated_at` so two concurrent spenders cannot both win.
            let Some(current) = current else {
                return Ok(false);
            };
            let stored: Vec<String> =
                serde_json::from_value(current.recovery_codes.clone()).unwrap_or_default();
            if stored != expected {
                return Ok(false);
            }
            let done = user::Entity::update_many()
                .col_expr(
                    user::Column::RecoveryCodes,
                    Expr::value(codes_json(&u.recovery_codes)),
                )
                .col_expr(user::Column::UpdatedAt, Expr::value(u.updated_at))
                .filter(user::Column::TenantId.eq(u.tenant_id.into_uuid()))
                .filter(user::Column::Id.eq(u.id))
                .filter(user::Column::UpdatedAt.eq(current.updated_at))
                .exec(tx)
                .await
                .map_err(store_err)?;
            Ok(done.rows_affected == 1)
        })
        .await
    }

    async fn update(&self, u: &User) -> Result<(), StoreError> {
        let update = user::Entity::update_many()
            .col_expr(user::Column::Role, Expr::value(u.role.as_str()))
            .col_expr(user::Column::Active, Expr::value(u.active))
            .col_expr(user::Column::TotpSecret, Expr::value(u.totp_secret.clone()))
            .col_expr(user::Column::TotpEnabled, Expr::value(u.totp_enabled))
            .col_expr(
                user::Column::RecoveryCodes,
                Expr::value(serde_json::json!(u.recovery_codes)),
            )
            .col_expr(user::Column::UpdatedAt, Expr::value(u.updated_at))
            .filter(user::Column::TenantId.eq(u.tenant_id.into_uuid()))
            .filter(user::Column::Id.eq(u.id));
        self.in_tenant(u.tenant_id, async |tx| {
            update.exec(tx).await.map_err(store_err)
        })
        .await?;
        Ok(())
    }
}

fn codes_json(codes: &[String]) -> serde_json::Value {
    serde_json::json!(codes)
}

#[async_trait]
impl RefreshTokenRepository for SqlStore {
    async fn insert(&self, t: &RefreshToken) -> Result<(), StoreError> {
        let insert = refresh_token::Entity::insert(refresh_token::ActiveModel {
            id: Set(t.id),
            tenant_id: Set(t.tenant_id.into_uuid()),
            user_id: Set(t.user_id),
            family_id: Set(t.family_id),
            hash: Set(t.hash.clone()),
            created_at: Set(t.created_at),
            expires_at: Set(t.expires_at),
            used_at: Set(t.used_at),
            revoked_at: Set(t.revoked_at),
        });
        self.in_tenant(t.tenant_id, async |tx| {
            insert.exec_without_returning(tx).await.map_err(store_err)
        })
        .await?;
        Ok(())
    }

    async fn find_by_hash(&self, hash: &str) -> Result<Option<RefreshToken>, StoreError> {
        let query = refresh_token::Entity::find().filter(refresh_token::Column::Hash.eq(hash));
        // All tenants: the refresh token is what tells us the tenant.
        Ok(self
            .across_tenants(async |tx| query.one(tx).await.map_err(store_err))
            .await?
            .map(to_token))
    }

    async fn mark_used(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let update = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(at))
            .filter(refresh_token::Column::Id.eq(id))
            .filter(refresh_token::Column::UsedAt.is_null());
        // All tenants: the port names the token by id only (found by hash just before).
        let done = self
            .across_tenants(async |tx| update.exec(tx).await.map_err(store_err))
            .await?;
        Ok(done.rows_affected == 1)
    }

    async fn revoke_family(&self, family: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        let update = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(at))
            .filter(refresh_token::Column::FamilyId.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null());
        // All tenants: the port names the session family only (a refresh-token family).
        self.across_tenants(async |tx| update.exec(tx).await.map_err(store_err))
            .await?;
        Ok(())
    }

    async fn revoke_user(&self, user: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        let update = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(at))
            .filter(refresh_token::Column::UserId.eq(user))
            .filter(refresh_token::Column::RevokedAt.is_null());
        // All tenants: the port names the user only (user ids are global UUIDs).
        self.across_tenants(async |tx| update.exec(tx).await.map_err(store_err))
            .await?;
        Ok(())
    }

    async fn session_active(&self, family: Uuid) -> Result<bool, StoreError> {
        // Every request with an access token asks this: on PostgreSQL one prepared statement
        // that bypasses RLS for its own query only (`tote_session_active`, migration 000016).
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let row = self
                .db
                .query_one(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT tote_session_active($1) AS open",
                    [family.into()],
                ))
                .await
                .map_err(store_err)?;
            return match row {
                Some(r) => r.try_get::<bool>("", "open").map_err(store_err),
                None => Ok(false),
            };
        }
        let query = refresh_token::Entity::find()
            .filter(refresh_token::Column::FamilyId.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null());
        // SQLite: no row-level security; the transaction is a formality.
        let n = self
            .across_tenants(async |tx| query.count(tx).await.map_err(store_err))
            .await?;
        Ok(n > 0)
    }
}

/// The smallest UUIDv7 of a moment: every id made at or after it sorts at or after it.
fn min_uuid_v7(at: DateTime<Utc>) -> Uuid {
    let ms = at.timestamp_millis().max(0) as u64;
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6] = 0x70;
    b[8] = 0x80;
    Uuid::from_bytes(b)
}

impl SqlStore {
    /// Orders the tenant placed since `since` (ids are UUIDv7, so this is an index range).
    pub async fn orders_since(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let query = order_row::Entity::find()
            .filter(order_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(order_row::Column::Id.gte(min_uuid_v7(since)));
        let n = self
            .in_tenant(tenant, async |tx| query.count(tx).await.map_err(store_err))
            .await?;
        Ok(n as i64)
    }

    /// SKUs in the tenant's catalogue.
    pub async fn sku_count(&self, tenant: TenantId) -> Result<i64, StoreError> {
        let query =
            product::Entity::find().filter(product::Column::TenantId.eq(tenant.into_uuid()));
        let n = self
            .in_tenant(tenant, async |tx| query.count(tx).await.map_err(store_err))
            .await?;
        Ok(n as i64)
    }

    /// Sets a tenant's plan limits (operators; `None` = unlimited).
    pub async fn set_plan(&self, tenant: TenantId, plan: Plan) -> Result<(), StoreError> {
        // `tenants` is not under row-level security (no `tenant_id` column): a plain statement.
        self.retrying_broken(async |db| {
            tenant::Entity::update_many()
                .col_expr(
                    tenant::Column::PlanOrdersPerDay,
                    Expr::value(plan.orders_per_day),
                )
                .col_expr(tenant::Column::PlanMaxSkus, Expr::value(plan.max_skus))
                .filter(tenant::Column::Id.eq(tenant.into_uuid()))
                .exec(db)
                .await
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_v7_of_a_moment_sorts_before_every_id_made_from_then_on() {
        let now = Utc::now();
        let floor = min_uuid_v7(now);
        assert_eq!(floor.get_version_num(), 7);
        assert!(Uuid::now_v7() >= floor);
        assert!(min_uuid_v7(now - chrono::Duration::milliseconds(1)) < floor);
    }
}
