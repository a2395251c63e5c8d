use crate::password::{self, Password};
use crate::ports::{ApiKeyRepository, TenantRepository};
use crate::{ApiKey, ApiKeySecret, IdentityError, NewTenant, Role, Scope, Tenant, User};
use kernel::{ApiKeyId, Clock, TenantId, ValidationErrors};

/// A caller proven by an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub api_key_id: ApiKeyId,
    /// `None`: full access.
    pub scopes: Option<Vec<Scope>>,
}

#[derive(Debug)]
pub struct SignedUp {
    pub tenant: Tenant,
    pub api_key: ApiKeySecret,
    /// The owner user, when a password was given.
    pub owner: Option<User>,
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

    /// Self-service start: a new tenant and its first (full-access) API key, shown once; with a
    /// password, also its owner user (login email = sign-up email).
    pub async fn sign_up(
        &self,
        new: NewTenant,
        password: Option<&str>,
    ) -> Result<SignedUp, IdentityError> {
        let now = self.clock.now();
        let password = match password.map(Password::new) {
            Some(Err(msg)) => {
                let mut errors = ValidationErrors::new();
                errors.add("password", msg);
                return Err(errors.into());
            }
            Some(Ok(p)) => Some(p),
            None => None,
        };
        let tenant = new.validate(TenantId::new(), now)?;
        let (key, secret) = ApiKey::generate(tenant.id, "default", now);
        let owner = password.map(|p| {
            User::new(
                tenant.id,
                tenant.email.clone(),
                Role::Owner,
                password::hash(&p),
                now,
            )
        });
        if !self
            .tenants
            .create_with_key(&tenant, &key, owner.clone())
            .await?
        {
            return Err(IdentityError::DuplicateEmail);
        }
        Ok(SignedUp {
            tenant,
            api_key: secret,
            owner,
        })
    }

    /// Who is behind this bearer token. Malformed keys never reach storage.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, IdentityError> {
        let secret = ApiKeySecret::parse(bearer).ok_or(IdentityError::Unauthenticated)?;
        let key = self
            .keys
            .find_active_by_hash(&secret.hash())
            .await?
            .ok_or(IdentityError::Unauthenticated)?;
        Ok(Principal {
            tenant_id: key.tenant_id,
            api_key_id: key.id,
            scopes: key.scopes,
        })
    }

    /// A new key limited to `scopes` (at least one, no duplicates), shown once.
    pub async fn create_key(
        &self,
        tenant: TenantId,
        name: &str,
        scopes: &[String],
    ) -> Result<(ApiKey, ApiKeySecret), IdentityError> {
        let mut errors = ValidationErrors::new();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.add("name", "name must be 1 to 100 characters");
        }
        let mut parsed: Vec<Scope> = Vec::new();
        for (i, raw) in scopes.iter().enumerate() {
            match Scope::parse(raw) {
                Some(s) if !parsed.contains(&s) => parsed.push(s),
                Some(_) => errors.add(format!("scopes[{i}]"), "listed twice"),
                None => errors.add(
                    format!("scopes[{i}]"),
                    "a scope is <area>:<read|write>; areas: orders, inventory, products, webhooks, events, warehouses",
                ),
            }
        }
        if scopes.is_empty() {
            errors.add("scopes", "give at least one scope, e.g. orders:write");
        }
        errors.into_result()?;
        let (key, secret) = ApiKey::generate_scoped(tenant, name, Some(parsed), self.clock.now());
        self.keys.create(&key).await?;
        Ok((key, secret))
    }

    pub async fn list_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>, IdentityError> {
        Ok(self.keys.list(tenant).await?)
    }

    pub async fn revoke_key(&self, tenant: TenantId, id: ApiKeyId) -> Result<(), IdentityError> {
        if self.keys.revoke(tenant, id, self.clock.now()).await? {
            Ok(())
        } else {
            Err(IdentityError::NotFound("API key"))
        }
    }

    pub async fn plan(&self, tenant: TenantId) -> Result<crate::Plan, IdentityError> {
        Ok(self.tenants.plan(tenant).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{ActiveKey, MockApiKeyRepository, MockTenantRepository};
    use kernel::SystemClock;

    fn new_tenant() -> NewTenant {
        NewTenant {
            company: "Acme".into(),
            email: "a@acme.example".into(),
        }
    }

    #[tokio::test]
    async fn sign_up_stores_the_tenant_with_a_hashed_full_access_key_and_returns_the_secret_once() {
        let mut tenants = MockTenantRepository::new();
        tenants
            .expect_create_with_key()
            .withf(|t, k, owner| {
                t.id == k.tenant_id
                    && k.hash.len() == 64
                    && k.revoked_at.is_none()
                    && k.scopes.is_none()
                    && owner.is_none()
            })
            .times(1)
            .returning(|_, _, _| Ok(true));
        let service = IdentityService::new(tenants, MockApiKeyRepository::new(), SystemClock);
        let signed = service.sign_up(new_tenant(), None).await.unwrap();
        assert!(signed.api_key.expose().starts_with("tote_sk_"));
    }

    #[tokio::test]
    async fn sign_up_with_a_password_creates_an_argon2id_owner_with_the_signup_email() {
        let mut tenants = MockTenantRepository::new();
        tenants
            .expect_create_with_key()
            .withf(|t, _, owner| {
                owner.as_ref().is_some_and(|o| {
                    o.email == "a@acme.example"
                        && o.role == Role::Owner
                        && o.tenant_id == t.id
                        && o.password_hash.starts_with("$argon2id$")
                })
            })
            .times(1)
            .returning(|_, _, _| Ok(true));
        let service = IdentityService::new(tenants, MockApiKeyRepository::new(), SystemClock);
        let signed = service
            .sign_up(new_tenant(), Some("a long enough secret"))
            .await
            .unwrap();
        assert!(signed.owner.is_some());
    }

    #[tokio::test]
    async fn a_short_password_is_refused_before_anything_is_stored() {
        let mut tenants = MockTenantRepository::new();
        tenants.expect_create_with_key().never();
        let service = IdentityService::new(tenants, MockApiKeyRepository::new(), SystemClock);
        let err = service.sign_up(new_tenant(), Some("short")).await;
        assert!(matches!(err, Err(IdentityError::Invalid(_))));
    }

    #[tokio::test]
    async fn a_taken_owner_email_is_a_duplicate() {
        let mut tenants = MockTenantRepository::new();
        tenants
            .expect_create_with_key()
            .returning(|_, _, _| Ok(false));
        let service = IdentityService::new(tenants, MockApiKeyRepository::new(), SystemClock);
        let err = service
            .sign_up(new_tenant(), Some("a long enough secret"))
            .await;
        assert!(matches!(err, Err(IdentityError::DuplicateEmail)));
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
    async fn a_known_key_authenticates_as_its_tenant_with_its_scopes() {
        let (key, secret) = ApiKey::generate(TenantId::new(), "k", chrono::Utc::now());
        let (tenant, id, hash) = (key.tenant_id, key.id, key.hash.clone());
        let mut keys = MockApiKeyRepository::new();
        keys.expect_find_active_by_hash()
            .withf(move |h| h == hash)
            .returning(move |_| {
                Ok(Some(ActiveKey {
                    tenant_id: tenant,
                    id,
                    scopes: None,
                }))
            });
        let service = IdentityService::new(MockTenantRepository::new(), keys, SystemClock);
        let principal = service.authenticate(secret.expose()).await.unwrap();
        assert_eq!(principal.tenant_id, tenant);
        assert_eq!(principal.scopes, None);
    }

    #[tokio::test]
    async fn a_new_key_carries_its_parsed_scopes_and_bad_scopes_are_named() {
        let mut keys = MockApiKeyRepository::new();
        keys.expect_create()
            .withf(|k| k.scopes.as_ref().is_some_and(|s| s.len() == 2))
            .times(1)
            .returning(|_| Ok(()));
        let service = IdentityService::new(MockTenantRepository::new(), keys, SystemClock);
        let tenant = TenantId::new();
        let scopes = ["orders:write".to_owned(), "inventory:read".to_owned()];
        service.create_key(tenant, "shop", &scopes).await.unwrap();
        let err = service
            .create_key(tenant, "shop", &["admin:all".to_owned()])
            .await;
        assert!(matches!(err, Err(IdentityError::Invalid(v)) if v.0[0].field == "scopes[0]"));
        let err = service.create_key(tenant, "shop", &[]).await;
        assert!(matches!(err, Err(IdentityError::Invalid(_))));
    }
}
