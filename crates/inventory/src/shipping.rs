//! Consuming an order's reservations as its goods leave: the inventory half of a shipment.
//!
//! Units are taken from what the order reserved for each line (its `stock_allocations` under
//! `meta.reference`), best-priority warehouse first; a kit takes its components, a whole kit
//! from one warehouse whenever the reservations allow. Each (SKU, warehouse) touched loses the
//! units from both `on_hand` and `reserved`, gets one `ship` movement and one
//! `inventory.changed` event (`"cause": "ship"`). Available stock does not change, so no
//! `inventory.low_stock` can be crossed.
//!
//! Like [`reserve`](crate::reservations::reserve), it runs inside the caller's open transaction
//! through [`StockLedger`], and takes the stock rows' locks first, in (SKU, warehouse) order
//! (ADR 009), so a shipment never waits on a placement in a cycle. Refusals write nothing.
//!
//! From the order unit of work (`SqlOrderTx` is a [`StockLedger`]), after locking the order:
//!
//! ```no_run
//! use inventory::reservations::{self, ConsumeError, MovementMeta, ShipLine, StockLedger};
//!
//! async fn ship(
//!     tx: &mut (dyn StockLedger + '_), // `self` in `SqlOrderTx`
//!     lines: Vec<ShipLine>,            // line_no, the line's SKU, units in line units
//!     meta: MovementMeta,              // reference: "order:<id>", the order's owner string
//! ) -> Result<(), ConsumeError> {
//!     let consumed = reservations::consume(tx, &lines, &meta).await?;
//!     // `consumed`: (line_no, warehouse_id, physical SKU, units) in lock order.
//!     assert!(consumed.iter().all(|c| !c.quantity.is_zero()));
//!     Ok(())
//! }
//! ```

use crate::StockLevel;
use crate::allocation::{LockedStock, Reservation};
use crate::kit::KitComponent;
use crate::reservations::{MovementMeta, StockLedger};
use kernel::{EventEnvelope, Quantity, Sku, StoreError, WarehouseId};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// What leaves for one order line: `quantity` in line units (a kit line counts whole kits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipLine {
    pub line_no: u32,
    /// The line's SKU, as ordered (a kit's own SKU for a kit line).
    pub sku: Sku,
    pub quantity: Quantity,
}

/// Units of one physical SKU taken from one warehouse's reservation for one line.
pub type Consumed = Reservation;

/// A stock row after a shipment took units from it, as the ledger reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedStock {
    pub warehouse_code: String,
    /// The level after the shipment.
    pub level: StockLevel,
    /// Units that left: `on_hand` and `reserved` both fell by this much.
    pub units: Quantity,
}

/// The `reason` on every `ship` movement.
pub const SHIP_REASON: &str = "shipped";

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// The line has fewer units reserved under the reference than asked to ship (line units;
    /// for a kit, whole kits its reserved components make). Nothing was written.
    #[error("line {line_no}: {wanted} to ship but only {reserved} reserved")]
    NotReserved {
        line_no: u32,
        wanted: Quantity,
        reserved: Quantity,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Consumes, for each line, `quantity` units of what `meta.reference` reserved for it: stock
/// rows locked, allocations decremented, `ship` movements written, `inventory.changed` raised
/// (one batch). Returns what was taken, sorted by (SKU, warehouse, line).
pub async fn consume(
    ledger: &mut (dyn StockLedger + '_),
    lines: &[ShipLine],
    meta: &MovementMeta,
) -> Result<Vec<Consumed>, ConsumeError> {
    let lines: Vec<&ShipLine> = lines.iter().filter(|l| !l.quantity.is_zero()).collect();
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let mut asked: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect();
    asked.sort();
    asked.dedup();
    let kits = ledger.kit_components(&asked).await?;
    let mut physical: Vec<Sku> = lines
        .iter()
        .flat_map(|l| bill(l, &kits).into_iter().map(|(sku, _)| sku))
        .collect();
    physical.sort();
    physical.dedup();
    // Locks first, in the order every writer takes them; only then read what is reserved.
    let rows = ledger.lock_stock(&physical).await?;
    let held = ledger.allocations_of(&meta.reference).await?;
    let consumed = plan(&lines, &kits, &rows, &held)?;
    let shipped = ledger.consume_reservations(&consumed, meta).await?;
    let events: Vec<EventEnvelope> = shipped.iter().map(|s| changed_event(meta, s)).collect();
    if !events.is_empty() {
        ledger.append_events(&events).await?;
    }
    Ok(consumed)
}

/// What one unit of a line takes: the SKU itself, or a kit's components × per-kit quantity.
fn bill(line: &ShipLine, kits: &HashMap<Sku, Vec<KitComponent>>) -> Vec<(Sku, i64)> {
    match kits.get(&line.sku) {
        Some(components) => components
            .iter()
            .map(|c| (c.sku.clone(), c.quantity.as_i64().max(1)))
            .collect(),
        None => vec![(line.sku.clone(), 1)],
    }
}

fn quantity(n: i64) -> Quantity {
    Quantity::new(n.max(0)).unwrap_or(Quantity::ZERO)
}

/// Decides where each line's units come from; pure. Warehouses without a locked row (an
/// archived product's) come last, ties broken by id, so the answer is deterministic.
fn plan(
    lines: &[&ShipLine],
    kits: &HashMap<Sku, Vec<KitComponent>>,
    rows: &[LockedStock],
    held: &[Reservation],
) -> Result<Vec<Consumed>, ConsumeError> {
    let priority: HashMap<WarehouseId, i32> =
        rows.iter().map(|r| (r.warehouse_id, r.priority)).collect();
    let mut left: BTreeMap<(u32, WarehouseId, Sku), i64> = BTreeMap::new();
    for r in held {
        *left
            .entry((r.line_no, r.warehouse_id, r.sku.clone()))
            .or_insert(0) += r.quantity.as_i64();
    }
    let mut taken: BTreeMap<(Sku, WarehouseId, u32), i64> = BTreeMap::new();
    for line in lines {
        let bill = bill(line, kits);
        let mut warehouses: Vec<(i32, WarehouseId)> = left
            .keys()
            .filter(|(l, _, _)| *l == line.line_no)
            .map(|(_, w, _)| (priority.get(w).copied().unwrap_or(i32::MAX), *w))
            .collect();
        warehouses.sort();
        warehouses.dedup();
        let held_of = |left: &BTreeMap<_, i64>, w: WarehouseId, sku: &Sku| {
            left.get(&(line.line_no, w, sku.clone()))
                .copied()
                .unwrap_or(0)
        };
        let reserved = bill
            .iter()
            .map(|(sku, per)| {
                warehouses
                    .iter()
                    .map(|(_, w)| held_of(&left, *w, sku))
                    .sum::<i64>()
                    / per
            })
            .min()
            .unwrap_or(0);
        let wanted = line.quantity.as_i64();
        if reserved < wanted {
            return Err(ConsumeError::NotReserved {
                line_no: line.line_no,
                wanted: line.quantity,
                reserved: quantity(reserved),
            });
        }
        let mut take = |left: &mut BTreeMap<_, i64>, w: WarehouseId, sku: &Sku, n: i64| {
            if let Some(l) = left.get_mut(&(line.line_no, w, sku.clone())) {
                *l -= n;
            }
            *taken.entry((sku.clone(), w, line.line_no)).or_insert(0) += n;
        };
        // Whole units from one warehouse each, best priority first.
        let mut remaining = wanted;
        for (_, w) in &warehouses {
            let units = bill
                .iter()
                .map(|(sku, per)| held_of(&left, *w, sku) / per)
                .min()
                .unwrap_or(0)
                .min(remaining);
            if units > 0 {
                for (sku, per) in &bill {
                    take(&mut left, *w, sku, units * per);
                }
                remaining -= units;
            }
        }
        // A kit whose reserved components are spread over warehouses: component by component.
        if remaining > 0 {
            for (sku, per) in &bill {
                let mut need = remaining * per;
                for (_, w) in &warehouses {
                    let n = held_of(&left, *w, sku).min(need);
                    if n > 0 {
                        take(&mut left, *w, sku, n);
                        need -= n;
                    }
                }
            }
        }
    }
    Ok(taken
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((sku, warehouse_id, line_no), n)| Consumed {
            line_no,
            warehouse_id,
            sku,
            quantity: quantity(n),
        })
        .collect())
}

/// `inventory.changed` for one stock row a shipment left, shaped like a receipt's.
fn changed_event(meta: &MovementMeta, s: &ShippedStock) -> EventEnvelope {
    let level = &s.level;
    EventEnvelope::new(
        "inventory.changed",
        meta.tenant_id,
        meta.at,
        "stock_level",
        uuid::Uuid::new_v5(meta.tenant_id.as_uuid(), level.sku.as_str().as_bytes()),
        meta.at.timestamp_micros(),
        json!({
            "sku": level.sku,
            "warehouse": s.warehouse_code,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available(),
            "on_hand_delta": -s.units.as_i64(),
            "cause": "ship",
        }),
        meta.correlation_id,
    )
}

#[cfg(test)]
mod tests;
