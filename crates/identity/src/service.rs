use crate::ports::{ApiKeyRepository, TenantRepository};
use crate::{ApiKey, ApiKeySecret, IdentityError, NewTenant, Tenant};
use kernel::{ApiKeyId, Clock, TenantId};

/// A caller proven by an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub api_key_id: ApiKeyId,
}

#[derive(Debug)]
pub struct SignedUp {
    pub tenant: Tenant,
    pub api_key: ApiKeySecret,
}

pub struct IdentityService<T, K, C> {
    tenants: T,
    keys: K,
    clock: C,
}

impl<T: TenantRepository, K: ApiKeyRepository, C: Clock> IdentityService<T, K, C> {
    pub fn new(tenants: T, keys: K, clock: C) -> Self {
        Self {
            tenants,
            keys,
            clock,
        }
    }

    /// Self-service start: a new tenant and its first API key, shown once.
    pub async fn sign_up(&self, new: NewTenant) -> Result<SignedUp, IdentityError> {
        let now = self.clock.now();
        let tenant = new.validate(TenantId::new(), now)?;
        let (key, secret) = ApiKey::generate(tenant.id, "default", now);
        self.tenants.create_with_key(&tenant, &key).await?;
        Ok(SignedUp {
            tenant,
            api_key: secret,
        })
    }

    /// Who is behind this bearer token. Malformed keys never reach storage.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, IdentityError> {
        let secret = ApiKeySecret::parse(bearer).ok_or(IdentityError::Unauthenticated)?;
        let (tenant_id, api_key_id) = self
            .keys
            .find_active_by_hash(&secret.hash())
            .await?
            .ok_or(IdentityError::Unauthenticated)?;
        Ok(Principal {
            tenant_id,
            api_key_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockApiKeyRepository, MockTenantRepository};
    use kernel::SystemClock;

    #[tokio::test]
    async fn sign_up_stores_the_tenant_with_a_hashed_key_and_returns_the_secret_once() {
        let mut tenants = MockTenantRepository::new();
        tenants
            .expect_create_with_key()
            .withf(|t, k| t.id == k.tenant_id && k.hash.len() == 64 && k.revoked_at.is_none())
            .times(1)
            .returning(|_, _| Ok(()));
        let service = IdentityService::new(tenants, MockApiKeyRepository::new(), SystemClock);
        let signed = service
            .sign_up(NewTenant {
                company: "Acme".into(),
                email: "a@acme.example".into(),
            })
            .await
            .unwrap();
        assert!(signed.api_key.expose().starts_with("tote_sk_"));
    }

    #[tokio::test]
    async fn a_malformed_key_is_refused_without_a_lookup() {
        let mut keys = MockApiKeyRepository::new();
        keys.expect_find_active_by_hash().never();
        let service = IdentityService::new(MockTenantRepository::new(), keys, SystemClock);
        assert!(matches!(
            service.authenticate("letmein").await,
            Err(IdentityError::Unauthenticated)
        ));
    }

    #[tokio::test]
    async fn a_known_key_authenticates_as_its_tenant() {
        let (key, secret) = ApiKey::generate(TenantId::new(), "k", chrono::Utc::now());
        let (tenant, id, hash) = (key.tenant_id, key.id, key.hash.clone());
        let mut keys = MockApiKeyRepository::new();
        keys.expect_find_active_by_hash()
            .withf(move |h| h == hash)
            .returning(move |_| Ok(Some((tenant, id))));
        let service = IdentityService::new(MockTenantRepository::new(), keys, SystemClock);
        let principal = service.authenticate(secret.expose()).await.unwrap();
        assert_eq!(principal.tenant_id, tenant);
    }
}
