//! Valuation: weighted average cost per SKU, and what the stock in each warehouse is worth.
//!
//! Money is integer minor units ([`Money`]); no floats. The average is kept per unit, in minor
//! units, **rounded half up** after each receipt:
//! `avg' = round_half_up((on_hand × avg + received × unit_cost) / (on_hand + received))`.
//! The value of the stock is `on_hand × avg`, so it may differ from the sum actually paid by
//! less than one minor unit per unit on hand; that is the accepted cost of a per-unit price.

use kernel::{Currency, Money, MoneyError, Quantity, Sku};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValuationError {
    #[error("cannot value {got} against an average kept in {expected}")]
    CurrencyMismatch { expected: Currency, got: Currency },
    #[error("a unit cost must not be negative")]
    NegativeCost,
    #[error("cannot issue {requested} units: only {on_hand} on hand")]
    InsufficientStock {
        on_hand: Quantity,
        requested: Quantity,
    },
    #[error("quantity on hand would exceed the maximum of {max}", max = Quantity::MAX)]
    TooMuchStock,
    #[error("{sku} appears twice in warehouse {warehouse}")]
    DuplicateLine { warehouse: String, sku: Sku },
    #[error("amount is too large")]
    Overflow,
}

impl From<MoneyError> for ValuationError {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::CurrencyMismatch(expected, got) => Self::CurrencyMismatch { expected, got },
            MoneyError::Negative => Self::NegativeCost,
            _ => Self::Overflow,
        }
    }
}

/// Units on hand of one SKU and their weighted average unit cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AverageCost {
    on_hand: Quantity,
    unit_cost: Money,
}

impl AverageCost {
    /// Nothing on hand yet; the average is 0 until the first receipt sets it.
    pub fn empty(currency: Currency) -> Self {
        Self {
            on_hand: Quantity::ZERO,
            unit_cost: Money::zero(currency),
        }
    }

    /// Opening balance (e.g. loaded from storage).
    pub fn opening(on_hand: Quantity, unit_cost: Money) -> Result<Self, ValuationError> {
        if unit_cost.amount_minor < 0 {
            return Err(ValuationError::NegativeCost);
        }
        Ok(Self { on_hand, unit_cost })
    }

    pub fn on_hand(&self) -> Quantity {
        self.on_hand
    }

    /// The weighted average cost of one unit.
    pub fn unit_cost(&self) -> Money {
        self.unit_cost
    }

    pub fn currency(&self) -> Currency {
        self.unit_cost.currency
    }

    /// `on_hand × average`.
    pub fn value(&self) -> Result<Money, ValuationError> {
        Ok(self.unit_cost.checked_mul(self.on_hand.as_i64())?)
    }

    /// A receipt of `quantity` units bought at `unit_cost` each: on hand grows and the average
    /// moves towards the receipt cost (round half up). With nothing on hand the average becomes
    /// the receipt cost. A receipt of 0 units changes nothing. A cost in another currency or
    /// a negative cost is refused and changes nothing.
    pub fn receive(self, quantity: Quantity, unit_cost: Money) -> Result<Self, ValuationError> {
        if unit_cost.currency != self.currency() {
            return Err(ValuationError::CurrencyMismatch {
                expected: self.currency(),
                got: unit_cost.currency,
            });
        }
        if unit_cost.amount_minor < 0 {
            return Err(ValuationError::NegativeCost);
        }
        if quantity.is_zero() {
            return Ok(self);
        }
        let old_units = i128::from(self.on_hand.get());
        let new_units = i128::from(quantity.get());
        let total_units = old_units + new_units;
        let on_hand =
            Quantity::new(total_units as i64).map_err(|_| ValuationError::TooMuchStock)?;
        // Fits easily: each product is below 2^30 × 2^63.
        let total_cost = old_units * i128::from(self.unit_cost.amount_minor)
            + new_units * i128::from(unit_cost.amount_minor);
        let average = div_round_half_up(total_cost, total_units);
        let average = i64::try_from(average).map_err(|_| ValuationError::Overflow)?;
        Ok(Self {
            on_hand,
            unit_cost: Money::new(average, self.currency()),
        })
    }

    /// An outbound movement (pick, ship, write-off, transfer out): on hand falls, the average
    /// stays. Issuing more than is on hand is refused.
    pub fn issue(self, quantity: Quantity) -> Result<Self, ValuationError> {
        if quantity > self.on_hand {
            return Err(ValuationError::InsufficientStock {
                on_hand: self.on_hand,
                requested: quantity,
            });
        }
        Ok(Self {
            on_hand: self.on_hand.saturating_sub(quantity),
            ..self
        })
    }

    /// A count or adjustment that sets on hand without a purchase: the average stays (found
    /// units are valued at the current average).
    pub fn recount(self, on_hand: Quantity) -> Self {
        Self { on_hand, ..self }
    }
}

/// `n / d` rounded half up, for `n >= 0`, `d > 0`.
fn div_round_half_up(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if 2 * r >= d { q + 1 } else { q }
}

/// One input row of the inventory-value report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuationRow {
    /// The warehouse code.
    pub warehouse: String,
    pub sku: Sku,
    pub on_hand: Quantity,
    pub average_cost: Money,
}

/// One SKU in one warehouse: `value = on_hand × average_cost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuationLine {
    pub sku: Sku,
    pub on_hand: Quantity,
    pub average_cost: Money,
    pub value: Money,
}

/// The stock in one warehouse, by SKU (sorted), and its total value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseValuation {
    pub warehouse: String,
    pub lines: Vec<ValuationLine>,
    pub total: Money,
}

/// What the stock is worth, per warehouse (sorted by code) and in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryValueReport {
    pub currency: Currency,
    pub warehouses: Vec<WarehouseValuation>,
    pub total: Money,
}

impl InventoryValueReport {
    /// Builds the report in `currency` (a tenant values its stock in one currency; there is no
    /// conversion, so a row in another currency is refused). A SKU listed twice for the same
    /// warehouse is refused rather than silently summed.
    pub fn build(
        currency: Currency,
        rows: impl IntoIterator<Item = ValuationRow>,
    ) -> Result<Self, ValuationError> {
        let mut by_warehouse: BTreeMap<String, BTreeMap<Sku, ValuationLine>> = BTreeMap::new();
        for row in rows {
            if row.average_cost.currency != currency {
                return Err(ValuationError::CurrencyMismatch {
                    expected: currency,
                    got: row.average_cost.currency,
                });
            }
            if row.average_cost.amount_minor < 0 {
                return Err(ValuationError::NegativeCost);
            }
            let value = row.average_cost.checked_mul(row.on_hand.as_i64())?;
            let lines = by_warehouse.entry(row.warehouse.clone()).or_default();
            if lines.contains_key(&row.sku) {
                return Err(ValuationError::DuplicateLine {
                    warehouse: row.warehouse,
                    sku: row.sku,
                });
            }
            lines.insert(
                row.sku.clone(),
                ValuationLine {
                    sku: row.sku,
                    on_hand: row.on_hand,
                    average_cost: row.average_cost,
                    value,
                },
            );
        }
        let mut total = Money::zero(currency);
        let mut warehouses = Vec::with_capacity(by_warehouse.len());
        for (warehouse, lines) in by_warehouse {
            let mut subtotal = Money::zero(currency);
            for line in lines.values() {
                subtotal = subtotal.checked_add(line.value)?;
            }
            total = total.checked_add(subtotal)?;
            warehouses.push(WarehouseValuation {
                warehouse,
                lines: lines.into_values().collect(),
                total: subtotal,
            });
        }
        Ok(Self {
            currency,
            warehouses,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn cents(n: i64) -> Money {
        Money::new(n, usd())
    }

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn at(on_hand: i64, avg: i64) -> AverageCost {
        AverageCost::opening(q(on_hand), cents(avg)).unwrap()
    }

    #[test]
    fn a_receipt_moves_the_average_by_weight() {
        // (10 × 500 + 5 × 800) / 15 = (5000 + 4000) / 15 = 600
        let after = at(10, 500).receive(q(5), cents(800)).unwrap();
        assert_eq!(after.on_hand(), q(15));
        assert_eq!(after.unit_cost(), cents(600));
        assert_eq!(after.value().unwrap(), cents(9_000));
    }

    #[test]
    fn the_average_is_rounded_half_up_to_a_minor_unit() {
        // (3 × 100 + 4 × 101) / 7 = 704 / 7 = 100.571… → 101
        assert_eq!(
            at(3, 100).receive(q(4), cents(101)).unwrap().unit_cost(),
            cents(101)
        );
        // (1 × 100 + 1 × 101) / 2 = 100.5 → 101 (half up)
        assert_eq!(
            at(1, 100).receive(q(1), cents(101)).unwrap().unit_cost(),
            cents(101)
        );
        // (2 × 100 + 1 × 101) / 3 = 100.333… → 100
        assert_eq!(
            at(2, 100).receive(q(1), cents(101)).unwrap().unit_cost(),
            cents(100)
        );
    }

    #[test]
    fn with_nothing_on_hand_the_average_becomes_the_receipt_cost() {
        let after = AverageCost::empty(usd())
            .receive(q(4), cents(1_234))
            .unwrap();
        assert_eq!(after.unit_cost(), cents(1_234));
        // Sold out at 600, then bought at 900: the old average no longer counts.
        let after = at(10, 600)
            .issue(q(10))
            .unwrap()
            .receive(q(2), cents(900))
            .unwrap();
        assert_eq!(after.unit_cost(), cents(900));
    }

    #[test]
    fn outbound_movements_do_not_change_the_average() {
        let after = at(15, 600).issue(q(6)).unwrap();
        assert_eq!(after.on_hand(), q(9));
        assert_eq!(after.unit_cost(), cents(600));
        assert_eq!(at(15, 600).recount(q(20)).unit_cost(), cents(600));
        assert_eq!(
            at(3, 600).issue(q(4)),
            Err(ValuationError::InsufficientStock {
                on_hand: q(3),
                requested: q(4)
            })
        );
    }

    #[test]
    fn a_receipt_in_another_currency_is_refused() {
        let eur = Money::new(500, Currency::parse("EUR").unwrap());
        assert!(matches!(
            at(10, 500).receive(q(5), eur),
            Err(ValuationError::CurrencyMismatch { .. })
        ));
        assert_eq!(
            at(10, 500).receive(q(5), cents(-1)),
            Err(ValuationError::NegativeCost)
        );
    }

    #[test]
    fn an_empty_receipt_changes_nothing() {
        assert_eq!(
            at(10, 500).receive(q(0), cents(9_999)).unwrap(),
            at(10, 500)
        );
        assert_eq!(
            AverageCost::empty(usd())
                .receive(q(0), cents(9_999))
                .unwrap(),
            AverageCost::empty(usd())
        );
    }

    #[test]
    fn huge_figures_do_not_overflow_silently() {
        let max = i64::from(Quantity::MAX);
        let after = at(max - 1, i64::MAX)
            .receive(q(1), cents(i64::MAX))
            .unwrap();
        assert_eq!(after.unit_cost(), cents(i64::MAX));
        assert_eq!(after.value(), Err(ValuationError::Overflow));
        assert_eq!(
            at(max, 1).receive(q(1), cents(1)),
            Err(ValuationError::TooMuchStock)
        );
    }

    proptest! {
        #[test]
        fn the_average_stays_between_the_cheapest_and_dearest_receipt(
            receipts in prop::collection::vec((1i64..10_000, 0i64..1_000_000), 1..20)
        ) {
            let mut cost = AverageCost::empty(usd());
            for (units, unit_cost) in &receipts {
                cost = cost.receive(q(*units), cents(*unit_cost)).unwrap();
            }
            let min = receipts.iter().map(|r| r.1).min().unwrap();
            let max = receipts.iter().map(|r| r.1).max().unwrap();
            prop_assert!((min..=max).contains(&cost.unit_cost().amount_minor));
            let units: i64 = receipts.iter().map(|r| r.0).sum();
            prop_assert_eq!(cost.on_hand(), q(units));
        }

        #[test]
        fn one_receipt_is_within_half_a_minor_unit_per_unit_of_the_exact_value(
            on_hand in 0i64..100_000, avg in 0i64..1_000_000,
            units in 1i64..100_000, unit_cost in 0i64..1_000_000,
        ) {
            let after = at(on_hand, avg).receive(q(units), cents(unit_cost)).unwrap();
            let paid = i128::from(on_hand) * i128::from(avg) + i128::from(units) * i128::from(unit_cost);
            let valued = i128::from(after.value().unwrap().amount_minor);
            let n = i128::from(on_hand + units);
            // |n·round(paid/n) − paid| ≤ n/2
            prop_assert!(2 * (valued - paid).abs() <= n);
        }
    }

    fn row(warehouse: &str, sku: &str, on_hand: i64, avg: i64) -> ValuationRow {
        ValuationRow {
            warehouse: warehouse.into(),
            sku: Sku::parse(sku).unwrap(),
            on_hand: q(on_hand),
            average_cost: cents(avg),
        }
    }

    #[test]
    fn the_report_sums_lines_per_warehouse_and_in_all() {
        let report = InventoryValueReport::build(
            usd(),
            vec![
                row("NYC", "TEE-M", 10, 600),   // 6 000
                row("LAX", "TEE-M", 3, 650),    // 1 950
                row("NYC", "MUG", 4, 1_299),    // 5 196
                row("NYC", "POSTER", 0, 2_500), // 0
            ],
        )
        .unwrap();
        assert_eq!(report.warehouses.len(), 2);
        let lax = &report.warehouses[0];
        assert_eq!(lax.warehouse, "LAX");
        assert_eq!(lax.total, cents(1_950));
        let nyc = &report.warehouses[1];
        let skus: Vec<_> = nyc.lines.iter().map(|l| l.sku.as_str()).collect();
        assert_eq!(skus, vec!["MUG", "POSTER", "TEE-M"]);
        assert_eq!(nyc.lines[0].value, cents(5_196)); // 4 × 1 299
        assert_eq!(nyc.total, cents(11_196)); // 6 000 + 5 196 + 0
        assert_eq!(report.total, cents(13_146)); // 11 196 + 1 950
    }

    #[test]
    fn an_empty_report_is_worth_nothing() {
        let report = InventoryValueReport::build(usd(), vec![]).unwrap();
        assert!(report.warehouses.is_empty());
        assert_eq!(report.total, cents(0));
    }

    #[test]
    fn the_report_refuses_other_currencies_and_duplicate_lines() {
        let mut eur_row = row("NYC", "TEE-M", 1, 100);
        eur_row.average_cost = Money::new(100, Currency::parse("EUR").unwrap());
        assert!(matches!(
            InventoryValueReport::build(usd(), vec![eur_row]),
            Err(ValuationError::CurrencyMismatch { .. })
        ));
        assert!(matches!(
            InventoryValueReport::build(
                usd(),
                vec![row("NYC", "TEE-M", 1, 100), row("NYC", "TEE-M", 2, 100)]
            ),
            Err(ValuationError::DuplicateLine { .. })
        ));
    }
}
