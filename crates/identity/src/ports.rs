use crate::token::RefreshToken;
use crate::{ApiKey, Plan, Scope, Tenant, User};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{ApiKeyId, StoreError, TenantId};
use uuid::Uuid;

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Stores a new tenant with its first API key and, when given, its owner user, atomically.
    /// `Ok(false)`: the owner's email is taken, nothing was stored.
    async fn create_with_key(
        &self,
        tenant: &Tenant,
        key: &ApiKey,
        owner: Option<User>,
    ) -> Result<bool, StoreError>;

    /// The tenant's plan limits.
    async fn plan(&self, tenant: TenantId) -> Result<Plan, StoreError>;
}

/// An unrevoked key as authentication sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveKey {
    pub tenant_id: TenantId,
    pub id: ApiKeyId,
    pub scopes: Option<Vec<Scope>>,
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// The unrevoked key with this hash, if any, whatever its tenant.
    async fn find_active_by_hash(&self, hash: &str) -> Result<Option<ActiveKey>, StoreError>;
    async fn create(&self, key: &ApiKey) -> Result<(), StoreError>;
    /// The tenant's keys, newest first, revoked ones included.
    async fn list(&self, tenant: TenantId) -> Result<Vec<ApiKey>, StoreError>;
    /// `false` when the tenant has no such unrevoked key.
    async fn revoke(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// `Ok(false)`: the email is taken (by any tenant).
    async fn insert(&self, user: &User) -> Result<bool, StoreError>;
    /// The user with this (normalised) email, whatever its tenant: login starts here.
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<User>, StoreError>;
    async fn list(&self, tenant: TenantId) -> Result<Vec<User>, StoreError>;
    /// Saves role, active, TOTP and recovery codes of a user of `user.tenant_id`.
    async fn update(&self, user: &User) -> Result<(), StoreError>;
    /// Replaces the user's recovery codes only if they are still `expected` (compare-and-set), so
    /// a code can be spent once even by two concurrent logins. `Ok(false)`: someone else won.
    async fn swap_recovery_codes(
        &self,
        user: &User,
        expected: &[String],
    ) -> Result<bool, StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    async fn insert(&self, token: &RefreshToken) -> Result<(), StoreError>;
    async fn find_by_hash(&self, hash: &str) -> Result<Option<RefreshToken>, StoreError>;
    /// Marks the token used if nobody did yet; `false` when another request got there first.
    async fn mark_used(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError>;
    async fn revoke_family(&self, family: Uuid, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Ends every session of a user (deactivation, password change).
    async fn revoke_user(&self, user: Uuid, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Whether the session (family) still has an unrevoked token.
    async fn session_active(&self, family: Uuid) -> Result<bool, StoreError>;
}
