use crate::InventoryError;
use kernel::{Quantity, Sku, WarehouseId};

/// Stock of one SKU in one warehouse: the projection of its movement ledger.
///
/// Invariant: `reserved <= on_hand`, so `available = on_hand - reserved` is never negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub warehouse_id: WarehouseId,
    pub sku: Sku,
    pub on_hand: Quantity,
    pub reserved: Quantity,
    /// On its way here (a transfer in transit), not yet on hand.
    pub incoming: Quantity,
    /// Bumped on every change; `If-Match` compares against it.
    pub version: i64,
}

/// The change a count makes: how far on hand moves, and the level after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountAdjustment {
    pub on_hand_delta: i64,
    pub after: StockLevel,
}

impl StockLevel {
    pub fn empty(warehouse_id: WarehouseId, sku: Sku) -> Self {
        Self {
            warehouse_id,
            sku,
            on_hand: Quantity::ZERO,
            reserved: Quantity::ZERO,
            incoming: Quantity::ZERO,
            version: 1,
        }
    }

    pub fn available(&self) -> Quantity {
        self.on_hand.saturating_sub(self.reserved)
    }

    /// The level after a ledger entry, or the broken invariant it would cause.
    pub fn apply(&self, delta: &StockDelta) -> Result<StockLevel, String> {
        let on_hand = self.on_hand.as_i64() + delta.on_hand;
        let reserved = self.reserved.as_i64() + delta.reserved;
        let incoming = self.incoming.as_i64() + delta.incoming;
        if reserved > on_hand {
            return Err(format!(
                "{} would have {reserved} reserved of {on_hand} on hand",
                self.sku
            ));
        }
        let q =
            |n: i64, what: &str| Quantity::new(n).map_err(|e| format!("{} {what}: {e}", self.sku));
        Ok(StockLevel {
            on_hand: q(on_hand, "on hand")?,
            reserved: q(reserved, "reserved")?,
            incoming: q(incoming, "incoming")?,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// A physical count says there are `counted` units. Refused if that would leave
    /// reservations without stock: oversell is never written, not even by a count.
    pub fn count_to(&self, counted: Quantity) -> Result<CountAdjustment, InventoryError> {
        if counted < self.reserved {
            return Err(InventoryError::BelowReserved {
                sku: self.sku.clone(),
                counted,
                reserved: self.reserved,
            });
        }
        Ok(CountAdjustment {
            on_hand_delta: counted.as_i64() - self.on_hand.as_i64(),
            after: StockLevel {
                on_hand: counted,
                version: self.version + 1,
                ..self.clone()
            },
        })
    }
}

/// How one movement changes a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StockDelta {
    pub on_hand: i64,
    pub reserved: i64,
    pub incoming: i64,
}

/// A SKU's stock summed over warehouses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockTotals {
    pub sku: Sku,
    pub on_hand: Quantity,
    pub reserved: Quantity,
    pub incoming: Quantity,
}

impl StockTotals {
    pub fn of(sku: Sku, levels: &[StockLevel]) -> Self {
        let sum = |f: fn(&StockLevel) -> Quantity| {
            let total: i64 = levels.iter().map(|l| f(l).as_i64()).sum();
            Quantity::new(total).unwrap_or(Quantity::ZERO)
        };
        Self {
            on_hand: sum(|l| l.on_hand),
            reserved: sum(|l| l.reserved),
            incoming: sum(|l| l.incoming),
            sku,
        }
    }

    pub fn available(&self) -> Quantity {
        self.on_hand.saturating_sub(self.reserved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(on_hand: i64, reserved: i64) -> StockLevel {
        StockLevel {
            warehouse_id: WarehouseId::new(),
            sku: Sku::parse("A").unwrap(),
            on_hand: Quantity::new(on_hand).unwrap(),
            reserved: Quantity::new(reserved).unwrap(),
            incoming: Quantity::ZERO,
            version: 3,
        }
    }

    #[test]
    fn available_is_on_hand_less_reserved() {
        assert_eq!(level(10, 4).available().get(), 6);
    }

    #[test]
    fn a_count_moves_on_hand_by_the_difference_and_bumps_the_version() {
        let adj = level(10, 4).count_to(Quantity::new(7).unwrap()).unwrap();
        assert_eq!(adj.on_hand_delta, -3);
        assert_eq!(adj.after.on_hand.get(), 7);
        assert_eq!(adj.after.reserved.get(), 4);
        assert_eq!(adj.after.version, 4);
    }

    #[test]
    fn a_count_below_what_is_reserved_is_refused() {
        let err = level(10, 4)
            .count_to(Quantity::new(3).unwrap())
            .unwrap_err();
        assert!(matches!(err, InventoryError::BelowReserved { .. }));
    }
}
