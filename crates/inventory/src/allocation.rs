//! Deciding which warehouse's stock a set of lines reserves.
//!
//! The planner is pure: an adapter locks the stock rows of every SKU involved (in SKU order),
//! hands them over as a [`StockSnapshot`], and writes back the [`AllocationPlan`]. Because the
//! plan is computed against locked rows, lines that share a SKU or a kit component can never
//! together reserve more than exists.
//!
//! Rules, in order (each tenant's [`AllocationRules`] can switch 1 and 2 off):
//! 1. one warehouse that can ship every line in full wins (fewest parcels), by priority;
//! 2. otherwise each line takes what it can, warehouse by warehouse in priority order (split);
//!    without splitting, only the warehouse that can give the most units ships;
//! 3. whatever is still missing is not reserved: the caller backorders it.
//!
//! A kit is allocated in whole kits, all components of one kit from the same warehouse.

use crate::kit::KitComponent;
use kernel::{Quantity, Sku, WarehouseId};
use std::collections::{BTreeMap, HashMap};

/// One locked stock row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedStock {
    pub warehouse_id: WarehouseId,
    /// Lower is preferred.
    pub priority: i32,
    pub sku: Sku,
    pub on_hand: i64,
    pub reserved: i64,
    /// The product's low-stock threshold (on total available), if it has one.
    pub low_stock_threshold: Option<i64>,
    /// The warehouse's daily cut-off, minutes after midnight UTC.
    pub cutoff_minute: i32,
}

/// A tenant's routing choices. Warehouse order is each warehouse's `priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocationRules {
    /// Try one warehouse that can ship the whole order before splitting.
    pub prefer_single_warehouse: bool,
    /// May one order be served from several warehouses.
    pub allow_split: bool,
}

impl Default for AllocationRules {
    fn default() -> Self {
        Self {
            prefer_single_warehouse: true,
            allow_split: true,
        }
    }
}

/// Everything the planner may use: locked rows, the components of any kit asked for, and the
/// tenant's rules.
#[derive(Debug, Clone, Default)]
pub struct StockSnapshot {
    pub rows: Vec<LockedStock>,
    pub kits: HashMap<Sku, Vec<KitComponent>>,
    pub rules: AllocationRules,
}

/// One line to reserve for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    pub line_no: u32,
    pub sku: Sku,
    pub quantity: Quantity,
}

/// Units of one physical SKU reserved in one warehouse for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub line_no: u32,
    pub warehouse_id: WarehouseId,
    pub sku: Sku,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllocationPlan {
    /// Units allocated to each request, in request order (kits count whole kits).
    pub allocated: Vec<Quantity>,
    /// What to add to `reserved`, sorted by SKU then warehouse (the lock order).
    pub reservations: Vec<Reservation>,
    /// The cut-off of the warehouse the order is routed to: the best-priority one it reserves
    /// in, else its first choice. `None` only when no row was locked.
    pub cutoff_minute: Option<i32>,
}

impl AllocationPlan {
    /// Reserved units per physical SKU, summed over warehouses.
    pub fn reserved_by_sku(&self) -> BTreeMap<Sku, i64> {
        let mut by_sku = BTreeMap::new();
        for r in &self.reservations {
            *by_sku.entry(r.sku.clone()).or_insert(0) += r.quantity.as_i64();
        }
        by_sku
    }
}

impl StockSnapshot {
    /// Every physical SKU the lines need, kits expanded: what an adapter must lock.
    pub fn physical_skus(
        requests: &[LineRequest],
        kits: &HashMap<Sku, Vec<KitComponent>>,
    ) -> Vec<Sku> {
        let mut skus: Vec<Sku> = requests
            .iter()
            .flat_map(|r| match kits.get(&r.sku) {
                Some(components) => components.iter().map(|c| c.sku.clone()).collect(),
                None => vec![r.sku.clone()],
            })
            .collect();
        skus.sort();
        skus.dedup();
        skus
    }

    /// SKUs asked for that are neither a kit nor stocked anywhere: unknown to the tenant.
    pub fn unknown(&self, requests: &[LineRequest]) -> Vec<Sku> {
        let mut unknown: Vec<Sku> = requests
            .iter()
            .filter(|r| {
                !self.kits.contains_key(&r.sku) && !self.rows.iter().any(|s| s.sku == r.sku)
            })
            .map(|r| r.sku.clone())
            .collect();
        unknown.sort();
        unknown.dedup();
        unknown
    }

    /// Total available (on hand − reserved) of a SKU over all warehouses.
    pub fn available(&self, sku: &Sku) -> i64 {
        self.rows
            .iter()
            .filter(|r| &r.sku == sku)
            .map(|r| r.on_hand - r.reserved)
            .sum()
    }
}

/// What one unit of a line consumes: the SKU itself, or a kit's components.
fn bill(request: &LineRequest, kits: &HashMap<Sku, Vec<KitComponent>>) -> Vec<(Sku, i64)> {
    match kits.get(&request.sku) {
        Some(components) => components
            .iter()
            .map(|c| (c.sku.clone(), c.quantity.as_i64()))
            .collect(),
        None => vec![(request.sku.clone(), 1)],
    }
}

/// Plans reservations for `requests` against `snapshot`. Unknown SKUs must be checked first
/// ([`StockSnapshot::unknown`]); here they simply get nothing.
pub fn plan(requests: &[LineRequest], snapshot: &StockSnapshot) -> AllocationPlan {
    // Warehouses in preference order; ties broken by id so the plan is deterministic.
    let mut warehouses: Vec<(i32, WarehouseId)> = snapshot
        .rows
        .iter()
        .map(|r| (r.priority, r.warehouse_id))
        .collect();
    warehouses.sort();
    warehouses.dedup();
    let mut free: HashMap<(WarehouseId, Sku), i64> = snapshot
        .rows
        .iter()
        .map(|r| {
            (
                (r.warehouse_id, r.sku.clone()),
                (r.on_hand - r.reserved).max(0),
            )
        })
        .collect();
    let bills: Vec<Vec<(Sku, i64)>> = requests.iter().map(|r| bill(r, &snapshot.kits)).collect();

    let mut allocated = vec![Quantity::ZERO; requests.len()];
    let mut reservations = Vec::new();
    let mut take = |line: usize, warehouse: WarehouseId, units: i64, free: &mut HashMap<_, i64>| {
        for (sku, per_unit) in &bills[line] {
            let need = units * per_unit;
            if let Some(f) = free.get_mut(&(warehouse, sku.clone())) {
                *f -= need;
            }
            reservations.push(Reservation {
                line_no: requests[line].line_no,
                warehouse_id: warehouse,
                sku: sku.clone(),
                quantity: Quantity::new(need).unwrap_or(Quantity::ZERO),
            });
        }
    };

    // Rule 1: one warehouse ships everything.
    let rules = snapshot.rules;
    let whole = warehouses
        .iter()
        .map(|(_, w)| *w)
        .filter(|_| rules.prefer_single_warehouse || !rules.allow_split)
        .find(|w| {
            let mut needs: HashMap<&Sku, i64> = HashMap::new();
            for (line, request) in requests.iter().enumerate() {
                for (sku, per_unit) in &bills[line] {
                    *needs.entry(sku).or_insert(0) += per_unit * request.quantity.as_i64();
                }
            }
            needs
                .iter()
                .all(|(sku, need)| free.get(&(*w, (*sku).clone())).copied().unwrap_or(0) >= *need)
        });
    if let Some(w) = whole {
        for (line, request) in requests.iter().enumerate() {
            if request.quantity.is_zero() {
                continue;
            }
            take(line, w, request.quantity.as_i64(), &mut free);
            allocated[line] = request.quantity;
        }
    } else {
        // Rules 2 and 3: split line by line (or, without splitting, take from the one
        // warehouse that gives the most), keep the rest for a backorder.
        let sources: Vec<(i32, WarehouseId)> = if rules.allow_split {
            warehouses.clone()
        } else {
            best_single(&warehouses, requests, &bills, &free)
                .into_iter()
                .collect()
        };
        for (line, request) in requests.iter().enumerate() {
            let mut remaining = request.quantity.as_i64();
            for (_, w) in &sources {
                if remaining == 0 {
                    break;
                }
                let makeable = bills[line]
                    .iter()
                    .map(|(sku, per_unit)| {
                        free.get(&(*w, sku.clone())).copied().unwrap_or(0) / per_unit.max(&1)
                    })
                    .min()
                    .unwrap_or(0);
                let units = makeable.min(remaining);
                if units > 0 {
                    take(line, *w, units, &mut free);
                    remaining -= units;
                }
            }
            allocated[line] =
                Quantity::new(request.quantity.as_i64() - remaining).unwrap_or(Quantity::ZERO);
        }
    }
    let priority_of = |w: WarehouseId| warehouses.iter().find(|(_, id)| *id == w).map(|(p, _)| *p);
    let routed = reservations
        .iter()
        .filter_map(|r| priority_of(r.warehouse_id).map(|p| (p, r.warehouse_id)))
        .min()
        .or_else(|| warehouses.first().copied())
        .map(|(_, w)| w);
    let cutoff_minute = routed.and_then(|w| {
        snapshot
            .rows
            .iter()
            .find(|r| r.warehouse_id == w)
            .map(|r| r.cutoff_minute)
    });
    reservations.sort_by(|a, b| {
        (&a.sku, a.warehouse_id, a.line_no).cmp(&(&b.sku, b.warehouse_id, b.line_no))
    });
    AllocationPlan {
        allocated,
        reservations,
        cutoff_minute,
    }
}

/// Without splitting: the warehouse that can give the most units over all lines (each line
/// on its own), best priority on ties.
fn best_single(
    warehouses: &[(i32, WarehouseId)],
    requests: &[LineRequest],
    bills: &[Vec<(Sku, i64)>],
    free: &HashMap<(WarehouseId, Sku), i64>,
) -> Option<(i32, WarehouseId)> {
    let units = |w: WarehouseId| -> i64 {
        let mut left = free.clone();
        requests
            .iter()
            .enumerate()
            .map(|(line, request)| {
                let makeable = bills[line]
                    .iter()
                    .map(|(sku, per_unit)| {
                        left.get(&(w, sku.clone())).copied().unwrap_or(0) / per_unit.max(&1)
                    })
                    .min()
                    .unwrap_or(0)
                    .min(request.quantity.as_i64());
                for (sku, per_unit) in &bills[line] {
                    if let Some(f) = left.get_mut(&(w, sku.clone())) {
                        *f -= makeable * per_unit;
                    }
                }
                makeable
            })
            .sum()
    };
    warehouses
        .iter()
        .map(|(p, w)| (units(*w), -*p, *w))
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.cmp(&a.2)))
        .filter(|(u, _, _)| *u > 0)
        .map(|(_, p, w)| (-p, w))
}

#[cfg(test)]
mod tests;
