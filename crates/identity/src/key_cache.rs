//! A short-lived memory of which API keys are active, in front of any [`ApiKeyRepository`].
//!
//! Every API request authenticates its key, so without this each order costs one database
//! round trip before its own work starts (`make bench`, docs/adr/017). Only a key found
//! active is remembered, for at most `ttl`; an unknown or revoked key always asks storage.
//! Revoking through this process forgets the key at once; another process keeps honouring
//! it until its own entry expires, which is the price of the round trip saved.

use crate::ApiKey;
use crate::ports::{ActiveKey, ApiKeyRepository};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use kernel::{ApiKeyId, Clock, StoreError, TenantId};
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept at most; past it, expired ones go first and then everything.
const CAPACITY: usize = 10_000;

pub struct CachedApiKeys<K, C> {
    inner: K,
    clock: C,
    ttl: Duration,
    active: Mutex<HashMap<String, (DateTime<Utc>, ActiveKey)>>,
}

impl<K: ApiKeyRepository, C: Clock> CachedApiKeys<K, C> {
    /// `ttl` zero (or less) remembers nothing: every look-up asks `inner`.
    pub fn new(inner: K, clock: C, ttl: Duration) -> Self {
        Self {
            inner,
            clock,
            ttl,
            active: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (DateTime<Utc>, ActiveKey)>> {
        // A panic elsewhere while holding the lock leaves a map that is still consistent.
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, hash: &str, key: &ActiveKey, now: DateTime<Utc>) {
        let mut entries = self.entries();
        if entries.len() >= CAPACITY {
            entries.retain(|_, (until, _)| *until > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(hash.to_owned(), (now + self.ttl, key.clone()));
    }
}

#[async_trait]
impl<K: ApiKeyRepository, C: Clock> ApiKeyRepository for CachedApiKeys<K, C> {
    async fn find_active_by_hash(&self, hash: &str) -> Result<Option<ActiveKey>, StoreError> {
        if self.ttl <= Duration::zero() {
            return self.inner.find_active_by_hash(hash).await;
        }
        let now = self.clock.now();
        if let Some((until, key)) = self.entries().get(hash)
            && *until > now
        {
            return Ok(Some(key.clone()));
        }
        let found = self.inner.find_active_by_hash(hash).await?;
        match &found {
            Some(key) => self.remember(hash, key, now),
            None => {
                self.entries().remove(hash);
            }
        }
        Ok(found)
    }

    async fn create(&self, key: &ApiKey) -> Result<(), StoreError> {
        self.inner.create(key).await
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<ApiKey>, StoreError> {
        self.inner.list(tenant).await
    }

    async fn revoke(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Forgotten before and after: a look-up racing the revocation may have remembered the
        // key from a read taken before it committed. At worst it keeps it for one TTL.
        self.entries().retain(|_, (_, key)| key.id != id);
        let revoked = self.inner.revoke(tenant, id, at).await?;
        self.entries().retain(|_, (_, key)| key.id != id);
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockApiKeyRepository;
    use kernel::FixedClock;

    fn clock() -> FixedClock {
        FixedClock::at(Utc::now())
    }

    fn active() -> ActiveKey {
        ActiveKey {
            tenant_id: TenantId::new(),
            id: ApiKeyId::new(),
            scopes: None,
        }
    }

    #[tokio::test]
    async fn an_active_key_is_asked_for_once_per_ttl() {
        let key = active();
        let mut inner = MockApiKeyRepository::new();
        let answer = key.clone();
        inner
            .expect_find_active_by_hash()
            .times(2)
            .returning(move |_| Ok(Some(answer.clone())));
        let clock = clock();
        let cache = CachedApiKeys::new(inner, clock.clone(), Duration::seconds(5));
        for _ in 0..3 {
            assert_eq!(
                cache.find_active_by_hash("h").await.unwrap(),
                Some(key.clone())
            );
        }
        clock.advance(Duration::seconds(4));
        assert!(cache.find_active_by_hash("h").await.unwrap().is_some());
        clock.advance(Duration::seconds(1));
        // Expired: storage is asked again (the second of the two expected calls).
        assert!(cache.find_active_by_hash("h").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn unknown_keys_are_never_remembered() {
        let mut inner = MockApiKeyRepository::new();
        inner
            .expect_find_active_by_hash()
            .times(3)
            .returning(|_| Ok(None));
        let cache = CachedApiKeys::new(inner, clock(), Duration::seconds(5));
        for _ in 0..3 {
            assert_eq!(cache.find_active_by_hash("nope").await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn revoking_here_forgets_the_key_at_once() {
        let key = active();
        let mut inner = MockApiKeyRepository::new();
        let answer = key.clone();
        let mut seq = mockall::Sequence::new();
        inner
            .expect_find_active_by_hash()
            .times(1)
            .in_sequence(&mut seq)
            .returning(move |_| Ok(Some(answer.clone())));
        inner
            .expect_revoke()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(true));
        inner
            .expect_find_active_by_hash()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(None));
        let cache = CachedApiKeys::new(inner, clock(), Duration::seconds(60));
        assert!(cache.find_active_by_hash("h").await.unwrap().is_some());
        assert!(
            cache
                .revoke(key.tenant_id, key.id, Utc::now())
                .await
                .unwrap()
        );
        assert_eq!(cache.find_active_by_hash("h").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_zero_ttl_asks_storage_every_time() {
        let mut inner = MockApiKeyRepository::new();
        inner
            .expect_find_active_by_hash()
            .times(2)
            .returning(|_| Ok(Some(active())));
        let cache = CachedApiKeys::new(inner, clock(), Duration::zero());
        cache.find_active_by_hash("h").await.unwrap();
        cache.find_active_by_hash("h").await.unwrap();
    }

    #[tokio::test]
    async fn storage_errors_pass_through_and_are_not_remembered() {
        let mut inner = MockApiKeyRepository::new();
        let mut seq = mockall::Sequence::new();
        inner
            .expect_find_active_by_hash()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Err(StoreError::new("down")));
        inner
            .expect_find_active_by_hash()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(None));
        let cache = CachedApiKeys::new(inner, clock(), Duration::seconds(5));
        assert!(cache.find_active_by_hash("h").await.is_err());
        assert_eq!(cache.find_active_by_hash("h").await.unwrap(), None);
    }
}
