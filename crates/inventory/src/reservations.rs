//! Reserving and releasing stock inside someone else's transaction: an order being placed or
//! cancelled, a checkout hold. The caller's adapter implements [`StockLedger`] on its open
//! transaction, so the order, its reservations, their ledger movements and the events commit
//! together.

use crate::allocation::{
    self, AllocationPlan, AllocationRules, LineRequest, LockedStock, Reservation, StockSnapshot,
};
use crate::kit::KitComponent;
use crate::replenishment::LowStockAlert;
pub use crate::shipping::{ConsumeError, Consumed, ShipLine, ShippedStock, consume};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{CorrelationId, EventEnvelope, Quantity, Sku, StoreError, TenantId};
use serde_json::json;
use std::collections::HashMap;

/// Who and what a batch of movements is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovementMeta {
    pub tenant_id: TenantId,
    /// Owner of the reservations and the movements' reference: `order:<id>`, `hold:<id>`.
    pub reference: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub correlation_id: Option<CorrelationId>,
}

impl MovementMeta {
    /// Movements a caller's request causes, under `reference`.
    pub fn for_request(ctx: &kernel::RequestContext, reference: String, at: DateTime<Utc>) -> Self {
        Self {
            tenant_id: ctx.tenant_id,
            reference,
            actor: ctx.actor.clone(),
            at,
            correlation_id: Some(ctx.correlation_id),
        }
    }
}

/// Stock access inside an open transaction.
///
/// Every method fails only with a [`StoreError`] (storage unreachable, a constraint broken);
/// business refusals are decided by the callers ([`reserve`], [`consume`]) before they write.
/// After an error the caller's transaction must not commit.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait StockLedger: Send {
    /// The components of those of `skus` that are kits.
    async fn kit_components(
        &mut self,
        skus: &[Sku],
    ) -> Result<HashMap<Sku, Vec<KitComponent>>, StoreError>;
    /// Locks the stock rows of these SKUs in every warehouse, in SKU order, until commit.
    /// Archived products have no rows here: they cannot be reserved.
    async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<LockedStock>, StoreError>;
    /// The tenant's routing rules (the defaults if it never set any).
    async fn allocation_rules(&mut self) -> Result<AllocationRules, StoreError>;
    /// Adds each reservation to its row's `reserved`, remembers it under `meta.reference` and
    /// writes a `reservation` movement for it.
    async fn add_reservations(
        &mut self,
        reservations: &[Reservation],
        meta: &MovementMeta,
    ) -> Result<(), StoreError>;
    /// Gives back everything reserved under `meta.reference`, writing `release` movements;
    /// returns what it released.
    async fn release_reservations(
        &mut self,
        meta: &MovementMeta,
    ) -> Result<Vec<Reservation>, StoreError>;
    /// What is reserved under `reference`, one entry per (line, SKU, warehouse), in lock
    /// order. Read it after [`lock_stock`](Self::lock_stock) so it cannot change underneath.
    async fn allocations_of(&mut self, reference: &str) -> Result<Vec<Reservation>, StoreError>;
    /// Takes shipped units out of reservations held under `meta.reference`: each entry's
    /// allocation shrinks (and goes at zero); each (SKU, warehouse) loses the units from both
    /// `on_hand` and `reserved` and gets one `ship` movement. Returns those rows afterwards, in
    /// lock order.
    ///
    /// # Errors
    /// A [`StoreError`] when an entry exceeds its allocation or its row's `reserved` (the
    /// caller plans against [`allocations_of`](Self::allocations_of) under the lock, so this
    /// means a bug or a concurrent writer that skipped the lock), or on any storage failure.
    /// The caller's transaction then must not commit: partial writes roll back with it.
    async fn consume_reservations(
        &mut self,
        consumed: &[Reservation],
        meta: &MovementMeta,
    ) -> Result<Vec<ShippedStock>, StoreError>;
    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    #[error("unknown SKUs: {0:?}")]
    UnknownSkus(Vec<Sku>),
    /// Only when everything was required: what fell short, and by how much.
    #[error("not enough stock: {0:?}")]
    Insufficient(Vec<(Sku, i64)>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Locks, plans and writes reservations for `requests`. With `all_or_nothing`, a shortfall
/// writes nothing and is an error; otherwise the plan says what each line got.
pub async fn reserve(
    ledger: &mut (dyn StockLedger + '_),
    requests: &[LineRequest],
    meta: &MovementMeta,
    all_or_nothing: bool,
) -> Result<AllocationPlan, ReserveError> {
    let mut asked: Vec<Sku> = requests.iter().map(|r| r.sku.clone()).collect();
    asked.sort();
    asked.dedup();
    let kits = ledger.kit_components(&asked).await?;
    let physical = StockSnapshot::physical_skus(requests, &kits);
    let rows = ledger.lock_stock(&physical).await?;
    let rules = ledger.allocation_rules().await?;
    let snapshot = StockSnapshot { rows, kits, rules };
    let unknown = snapshot.unknown(requests);
    if !unknown.is_empty() {
        return Err(ReserveError::UnknownSkus(unknown));
    }
    let plan = allocation::plan(requests, &snapshot);
    if all_or_nothing {
        let short: Vec<(Sku, i64)> = requests
            .iter()
            .zip(&plan.allocated)
            .filter(|(r, got)| *got < &r.quantity)
            .map(|(r, got)| (r.sku.clone(), r.quantity.as_i64() - got.as_i64()))
            .collect();
        if !short.is_empty() {
            return Err(ReserveError::Insufficient(short));
        }
    }
    if !plan.reservations.is_empty() {
        ledger.add_reservations(&plan.reservations, meta).await?;
        let alerts = low_stock_events(&snapshot, &plan, meta);
        if !alerts.is_empty() {
            ledger.append_events(&alerts).await?;
        }
    }
    Ok(plan)
}

/// Releases everything reserved under `meta.reference`.
pub async fn release(
    ledger: &mut (dyn StockLedger + '_),
    meta: &MovementMeta,
) -> Result<Vec<Reservation>, StoreError> {
    ledger.release_reservations(meta).await
}

fn low_stock_events(
    snapshot: &StockSnapshot,
    plan: &AllocationPlan,
    meta: &MovementMeta,
) -> Vec<EventEnvelope> {
    plan.reserved_by_sku()
        .into_iter()
        .filter_map(|(sku, reserved)| {
            let threshold = snapshot
                .rows
                .iter()
                .find(|r| r.sku == sku)
                .and_then(|r| r.low_stock_threshold);
            let before = snapshot.available(&sku);
            let after = before - reserved;
            let q = |n: i64| Quantity::new(n.max(0)).unwrap_or(Quantity::ZERO);
            LowStockAlert::on_change(&sku, threshold.map(q), q(before), q(after))
                .map(|alert| low_stock_event(meta, &alert))
        })
        .collect()
}

/// `inventory.low_stock`, keyed on the SKU so its alerts stay in order.
pub fn low_stock_event(meta: &MovementMeta, alert: &LowStockAlert) -> EventEnvelope {
    let sku = &alert.sku;
    EventEnvelope::new(
        LowStockAlert::EVENT_TYPE,
        meta.tenant_id,
        meta.at,
        "stock_alert",
        uuid::Uuid::new_v5(meta.tenant_id.as_uuid(), sku.as_str().as_bytes()),
        meta.at.timestamp_micros(),
        json!({
            "sku": sku,
            "available": alert.available,
            "threshold": alert.threshold,
            "cause": meta.reference,
        }),
        meta.correlation_id,
    )
}

#[cfg(test)]
mod tests;
