//! The one place concrete adapter types are named: handlers see only `AppState`.

use crate::config::{Secret, Settings};
use identity::service::IdentityService;
use inventory::service::InventoryService;
use kernel::EventHandler;
use kernel::SystemClock;
use order::service::OrderService;
use sql::SqlStore;
use std::sync::Arc;

pub type Identity = IdentityService<SqlStore, SqlStore, SystemClock>;
pub type Inventory = InventoryService<SqlStore, SqlStore, SqlStore, SqlStore, SystemClock>;
pub type Orders = OrderService<SqlStore, SqlStore, SystemClock>;

pub struct AppState {
    pub store: SqlStore,
    pub identity: Identity,
    pub inventory: Inventory,
    pub orders: Orders,
    /// The event consumers, for replaying their dead letters.
    pub consumers: Vec<Arc<dyn EventHandler>>,
    pub admin_token: Option<Secret>,
    pub amqp_url: Option<Secret>,
    pub metrics: crate::metrics::Metrics,
    pub webhook_allow_private: bool,
}

impl AppState {
    pub fn new(store: SqlStore, settings: &Settings, metrics: crate::metrics::Metrics) -> Self {
        let s = store.clone();
        Self {
            identity: IdentityService::new(s.clone(), s.clone(), SystemClock),
            inventory: InventoryService::new(
                s.clone(),
                s.clone(),
                s.clone(),
                s.clone(),
                SystemClock,
            ),
            orders: OrderService::new(s.clone(), s.clone(), SystemClock),
            consumers: crate::consumers::all(&s),
            admin_token: settings.admin_token.clone(),
            amqp_url: settings.amqp_url.clone(),
            metrics,
            webhook_allow_private: settings.webhook_allow_private,
            store,
        }
    }
}
