use crate::{ApiKey, Tenant};
use async_trait::async_trait;
use kernel::{ApiKeyId, StoreError, TenantId};

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Stores a new tenant together with its first API key, atomically.
    async fn create_with_key(&self, tenant: &Tenant, key: &ApiKey) -> Result<(), StoreError>;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ApiKeyRepository: Send + Sync {
    /// The tenant and id of the unrevoked key with this hash, if any.
    async fn find_active_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<(TenantId, ApiKeyId)>, StoreError>;
}
