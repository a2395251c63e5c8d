//! The one place concrete adapter types are named: handlers see only `AppState`.

use crate::audit::AuditSink;
use crate::config::{Secret, Settings};
use crate::jwt::KeySet;
use crate::limits::{PlanCache, RateLimiter};
use identity::account::AccountService;
use identity::service::IdentityService;
use inventory::service::InventoryService;
use kernel::EventHandler;
use kernel::SystemClock;
use notification::{NotificationService, Notifier};
use order::service::OrderService;
use sql::SqlStore;
use std::sync::Arc;
use std::time::Duration;

pub type Identity = IdentityService<
    SqlStore,
    identity::key_cache::CachedApiKeys<SqlStore, SystemClock>,
    SystemClock,
>;
pub type Accounts = AccountService<SqlStore, SqlStore, KeySet, SystemClock>;
pub type Inventory = InventoryService<SqlStore, SqlStore, SqlStore, SqlStore, SystemClock>;
pub type Orders = OrderService<SqlStore, SqlStore, SystemClock>;
pub type Picking = warehouse::PickingService<SqlStore, SqlStore, SystemClock>;
pub type Packing = warehouse::PackingService<SqlStore, SystemClock>;
/// Receiving, put-away, cycle counts and QC.
pub type Floor = warehouse::InboundService<SqlStore, SystemClock>;
pub type Notifications =
    NotificationService<SqlStore, SqlStore, Arc<dyn Notifier>, SqlStore, SystemClock>;

/// Customer notifications over the store, sending through `notifier`.
pub fn notifications(store: SqlStore, notifier: Arc<dyn Notifier>) -> Notifications {
    NotificationService::new(store.clone(), store.clone(), notifier, store, SystemClock)
}

pub struct AppState {
    pub store: SqlStore,
    pub identity: Identity,
    pub accounts: Accounts,
    pub keys: KeySet,
    pub inventory: Inventory,
    pub orders: Orders,
    pub floor: Floor,
    pub notifications: Notifications,
    /// The event consumers, for replaying their dead letters.
    pub consumers: Vec<Arc<dyn EventHandler>>,
    pub admin_token: Option<Secret>,
    pub amqp_url: Option<Secret>,
    pub metrics: crate::metrics::Metrics,
    pub webhook_allow_private: bool,
    pub limits: Limits,
    pub audit: AuditSink,
    pub request_timeout: Duration,
    pub shipping: crate::shipping::Shipping,
    /// The floor: pick lists and pack sessions.
    pub picking: Picking,
    pub packing: Packing,
}

/// Rate limits and plan caches (in-process, per API pod).
pub struct Limits {
    pub login_per_ip: RateLimiter,
    pub login_per_account: RateLimiter,
    pub per_tenant: RateLimiter,
    /// Public shipping quotes, per IP.
    pub quotes_per_ip: RateLimiter,
    pub plans: PlanCache,
}

impl AppState {
    pub fn new(
        store: SqlStore,
        settings: &Settings,
        metrics: crate::metrics::Metrics,
        keys: KeySet,
        audit: AuditSink,
        notifier: Arc<dyn Notifier>,
        shipping: crate::shipping::Shipping,
    ) -> Self {
        let s = store.clone();
        let minute = Duration::from_secs(60);
        Self {
            identity: IdentityService::new(
                s.clone(),
                identity::key_cache::CachedApiKeys::new(
                    s.clone(),
                    SystemClock,
                    chrono::Duration::seconds(settings.api_key_cache_secs as i64),
                ),
                SystemClock,
            ),
            accounts: AccountService::new(s.clone(), s.clone(), keys.clone(), SystemClock),
            keys,
            inventory: InventoryService::new(
                s.clone(),
                s.clone(),
                s.clone(),
                s.clone(),
                SystemClock,
            ),
            orders: OrderService::new(s.clone(), s.clone(), SystemClock),
            floor: warehouse::InboundService::new(s.clone(), SystemClock),
            notifications: notifications(s.clone(), notifier.clone()),
            consumers: crate::consumers::all(&s, &notifier),
            admin_token: settings.admin_token.clone(),
            amqp_url: settings.amqp_url.clone(),
            metrics,
            webhook_allow_private: settings.webhook_allow_private,
            limits: Limits {
                login_per_ip: RateLimiter::new(settings.login_attempts_per_minute, minute),
                login_per_account: RateLimiter::new(settings.login_attempts_per_minute, minute),
                per_tenant: RateLimiter::new(settings.tenant_rate_per_minute, minute),
                quotes_per_ip: RateLimiter::new(settings.quotes_per_minute, minute),
                plans: PlanCache::default(),
            },
            audit,
            request_timeout: Duration::from_secs(settings.request_timeout_secs.max(1)),
            shipping,
            picking: warehouse::PickingService::new(s.clone(), s.clone(), SystemClock),
            packing: warehouse::PackingService::new(s.clone(), SystemClock),
            store,
        }
    }
}
