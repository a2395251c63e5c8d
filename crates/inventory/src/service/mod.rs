//! Inventory use cases. Generic over the ports, so tests run them against mocks.

mod catalogue;
pub mod floor;
mod holds;
mod stock;
mod transfers;

pub use catalogue::ImportReport;
pub use stock::{DriftReport, ReceiveStock, SetCountedQuantity, StockView};

use crate::ports::{InventoryUnitOfWork, ProductRepository, StockQueries, WarehouseRepository};
use crate::{InventoryError, Warehouse};
use kernel::{Clock, EventEnvelope, RequestContext, Sku};
use serde_json::Value;

pub struct InventoryService<P, W, S, U, C> {
    products: P,
    warehouses: W,
    stock: S,
    uow: U,
    clock: C,
}

impl<P, W, S, U, C> InventoryService<P, W, S, U, C>
where
    P: ProductRepository,
    W: WarehouseRepository,
    S: StockQueries,
    U: InventoryUnitOfWork,
    C: Clock,
{
    pub fn new(products: P, warehouses: W, stock: S, uow: U, clock: C) -> Self {
        Self {
            products,
            warehouses,
            stock,
            uow,
            clock,
        }
    }
}

/// The named warehouse (or the default one), read inside the unit of work so the whole
/// command sees one tenant-scoped snapshot.
async fn warehouse_in(
    tx: &mut dyn crate::ports::InventoryTransaction,
    code: Option<&str>,
) -> Result<Warehouse, InventoryError> {
    let code = code
        .map(crate::warehouse::parse_warehouse_code)
        .transpose()
        .map_err(|e| kernel::ValidationErrors::single("warehouse", e))?;
    tx.find_warehouse(code.clone())
        .await?
        .ok_or_else(|| InventoryError::UnknownWarehouse(code.unwrap_or_else(|| "(default)".into())))
}

/// A product read inside the unit of work; stock commands refuse kits (no stock of their own).
async fn stocked_product(
    tx: &mut dyn crate::ports::InventoryTransaction,
    sku: &Sku,
) -> Result<crate::Product, InventoryError> {
    let product = tx
        .lock_product(sku)
        .await?
        .ok_or_else(|| InventoryError::UnknownSku(sku.clone()))?;
    if product.is_kit() {
        return Err(InventoryError::KitHasNoStock(sku.clone()));
    }
    Ok(product)
}

/// Locks every warehouse's row of `sku` (in the one lock order) and returns the SKU's total
/// available and its low-stock threshold, so a change can tell whether it crosses it.
async fn lock_sku_everywhere(
    tx: &mut dyn crate::ports::InventoryTransaction,
    sku: &Sku,
) -> Result<(i64, Option<i64>), kernel::StoreError> {
    let rows = tx.lock_stock(std::slice::from_ref(sku)).await?;
    let available = rows.iter().map(|r| r.on_hand - r.reserved).sum();
    Ok((available, rows.first().and_then(|r| r.low_stock_threshold)))
}

/// `inventory.low_stock` if moving total available from `before` to `after` crosses the
/// threshold downwards (once per crossing).
fn low_stock_alert(
    ctx: &RequestContext,
    sku: &Sku,
    threshold: Option<i64>,
    before: i64,
    after: i64,
    at: chrono::DateTime<chrono::Utc>,
    cause: &str,
) -> Option<EventEnvelope> {
    let q = |n: i64| kernel::Quantity::new(n.max(0)).unwrap_or(kernel::Quantity::ZERO);
    let alert = crate::LowStockAlert::on_change(sku, threshold.map(q), q(before), q(after))?;
    let meta = crate::reservations::MovementMeta::for_request(ctx, cause.to_owned(), at);
    Some(crate::reservations::low_stock_event(&meta, &alert))
}

/// An inventory event keyed on the SKU, so one SKU's events stay in order.
pub fn sku_event(
    ctx: &RequestContext,
    event_type: &str,
    sku: &Sku,
    at: chrono::DateTime<chrono::Utc>,
    payload: Value,
) -> EventEnvelope {
    EventEnvelope::new(
        event_type,
        ctx.tenant_id,
        at,
        "stock_level",
        uuid::Uuid::new_v5(ctx.tenant_id.as_uuid(), sku.as_str().as_bytes()),
        // A SKU's stock lives in several warehouses, each with its own version: time orders them.
        at.timestamp_micros(),
        payload,
        Some(ctx.correlation_id),
    )
}

#[cfg(test)]
mod tests;
