//! Gives back the stock of checkout holds that passed their time unconfirmed.

use inventory::service::InventoryService;
use kernel::SystemClock;
use sql::SqlStore;
use std::time::Duration;
use tokio::task::JoinHandle;

const BATCH: u32 = 200;

pub fn spawn(store: SqlStore, poll: Duration) -> JoinHandle<()> {
    let s = store;
    let inventory = InventoryService::new(s.clone(), s.clone(), s.clone(), s, SystemClock);
    tokio::spawn(async move {
        loop {
            match inventory.expire_holds(BATCH).await {
                Ok(n) if n as u32 == BATCH => continue,
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "reservation holds expired and released"),
                Err(e) => tracing::warn!(error = %e, "hold expiry failed; will retry"),
            }
            tokio::time::sleep(poll).await;
        }
    })
}
