//! The ledger is the truth; stock levels are its running sum. These functions fold a ledger
//! into levels and compare the result with the live projection (a rebuild reports any drift).

use crate::StockLevel;
use crate::stock::StockDelta;
use kernel::{Sku, WarehouseId};
use std::collections::BTreeMap;

/// Sum of every movement of one SKU in one warehouse.
pub type LedgerSums = BTreeMap<(WarehouseId, Sku), StockDelta>;

/// Folds movements (any order: it is a sum) into per-warehouse, per-SKU totals.
pub fn fold<'a>(
    movements: impl IntoIterator<Item = (WarehouseId, &'a Sku, StockDelta)>,
) -> LedgerSums {
    let mut sums = LedgerSums::new();
    for (warehouse, sku, d) in movements {
        let sum = sums.entry((warehouse, sku.clone())).or_default();
        sum.on_hand += d.on_hand;
        sum.reserved += d.reserved;
        sum.incoming += d.incoming;
    }
    sums
}

/// A level whose live figures differ from its ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub warehouse_id: WarehouseId,
    pub sku: Sku,
    pub live: StockDelta,
    pub ledger: StockDelta,
}

/// Every level that disagrees with the ledger, including ledger entries with no level and
/// levels with stock but no ledger. Sorted by SKU, then warehouse.
pub fn drift(live: &[StockLevel], ledger: &LedgerSums) -> Vec<Drift> {
    let mut live_sums: LedgerSums = BTreeMap::new();
    for l in live {
        live_sums.insert(
            (l.warehouse_id, l.sku.clone()),
            StockDelta {
                on_hand: l.on_hand.as_i64(),
                reserved: l.reserved.as_i64(),
                incoming: l.incoming.as_i64(),
            },
        );
    }
    let mut keys: Vec<&(WarehouseId, Sku)> = live_sums.keys().chain(ledger.keys()).collect();
    keys.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let live = live_sums.get(key).copied().unwrap_or_default();
            let ledger = ledger.get(key).copied().unwrap_or_default();
            (live != ledger).then(|| Drift {
                warehouse_id: key.0,
                sku: key.1.clone(),
                live,
                ledger,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
