//! The one place concrete adapter types are named: handlers see only `AppState`.

use identity::service::IdentityService;
use inventory::service::InventoryService;
use kernel::SystemClock;
use order::service::OrderService;
use sql::SqlStore;

pub type Identity = IdentityService<SqlStore, SqlStore, SystemClock>;
pub type Inventory = InventoryService<SqlStore, SqlStore, SqlStore, SystemClock>;
pub type Orders = OrderService<SqlStore, SqlStore, SystemClock>;

pub struct AppState {
    pub store: SqlStore,
    pub identity: Identity,
    pub inventory: Inventory,
    pub orders: Orders,
}

impl AppState {
    pub fn new(store: SqlStore) -> Self {
        let s = store.clone();
        Self {
            identity: IdentityService::new(s.clone(), s.clone(), SystemClock),
            inventory: InventoryService::new(s.clone(), s.clone(), s.clone(), SystemClock),
            orders: OrderService::new(s.clone(), s, SystemClock),
            store,
        }
    }
}
