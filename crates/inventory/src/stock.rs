use crate::InventoryError;
use kernel::{Quantity, Sku};

/// Stock of one SKU: the projection of its movement ledger.
///
/// Invariant: `reserved <= on_hand`, so `available = on_hand - reserved` is never negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub sku: Sku,
    pub on_hand: Quantity,
    pub reserved: Quantity,
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
    pub fn empty(sku: Sku) -> Self {
        Self {
            sku,
            on_hand: Quantity::ZERO,
            reserved: Quantity::ZERO,
            version: 1,
        }
    }

    pub fn available(&self) -> Quantity {
        self.on_hand.saturating_sub(self.reserved)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn level(on_hand: i64, reserved: i64) -> StockLevel {
        StockLevel {
            sku: Sku::parse("A").unwrap(),
            on_hand: Quantity::new(on_hand).unwrap(),
            reserved: Quantity::new(reserved).unwrap(),
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
