use super::*;
use kernel::Quantity;
use proptest::prelude::*;

/// A random workload step on 2 SKUs × 2 warehouses.
#[derive(Debug, Clone)]
enum Op {
    Receive(usize, usize, i64),
    Reserve(usize, usize, i64),
    Release(usize, usize, i64),
    Pick(usize, usize, i64),
    Adjust(usize, usize, i64),
    /// From one warehouse to the other: out of on hand, into the other's incoming.
    TransferOut(usize, usize, i64),
    /// Whatever is incoming arrives.
    TransferIn(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let w = 0..2usize;
    let s = 0..2usize;
    prop_oneof![
        (w.clone(), s.clone(), 1..20i64).prop_map(|(w, s, q)| Op::Receive(w, s, q)),
        (w.clone(), s.clone(), 1..20i64).prop_map(|(w, s, q)| Op::Reserve(w, s, q)),
        (w.clone(), s.clone(), 1..20i64).prop_map(|(w, s, q)| Op::Release(w, s, q)),
        (w.clone(), s.clone(), 1..20i64).prop_map(|(w, s, q)| Op::Pick(w, s, q)),
        (w.clone(), s.clone(), -20..20i64).prop_map(|(w, s, q)| Op::Adjust(w, s, q)),
        (w.clone(), s.clone(), 1..20i64).prop_map(|(w, s, q)| Op::TransferOut(w, s, q)),
        (w, s).prop_map(|(w, s)| Op::TransferIn(w, s)),
    ]
}

fn d(on_hand: i64, reserved: i64, incoming: i64) -> StockDelta {
    StockDelta {
        on_hand,
        reserved,
        incoming,
    }
}

proptest! {
    #[test]
    fn the_projection_always_equals_the_ledger_and_never_oversells(ops in proptest::collection::vec(op(), 1..200)) {
        let warehouses = [WarehouseId::new(), WarehouseId::new()];
        let skus = [Sku::parse("A").unwrap(), Sku::parse("B").unwrap()];
        let mut levels: Vec<Vec<StockLevel>> = warehouses
            .iter()
            .map(|w| skus.iter().map(|s| StockLevel::empty(*w, s.clone())).collect())
            .collect();
        let mut ledger: Vec<(WarehouseId, Sku, StockDelta)> = Vec::new();

        for op in ops {
            // Each step is one or two (delta, warehouse, sku) changes applied all-or-nothing.
            let changes: Vec<(usize, usize, StockDelta)> = match op {
                Op::Receive(w, s, q) => vec![(w, s, d(q, 0, 0))],
                Op::Reserve(w, s, q) => vec![(w, s, d(0, q, 0))],
                Op::Release(w, s, q) => vec![(w, s, d(0, -q, 0))],
                Op::Pick(w, s, q) => vec![(w, s, d(-q, -q, 0))],
                Op::Adjust(w, s, q) => vec![(w, s, d(q, 0, 0))],
                Op::TransferOut(w, s, q) => vec![(w, s, d(-q, 0, 0)), (1 - w, s, d(0, 0, q))],
                Op::TransferIn(w, s) => {
                    let incoming = levels[w][s].incoming.as_i64();
                    if incoming == 0 { continue; }
                    vec![(w, s, d(incoming, 0, -incoming))]
                }
            };
            let applied: Result<Vec<StockLevel>, String> = changes
                .iter()
                .map(|(w, s, delta)| levels[*w][*s].apply(delta))
                .collect();
            // A refused step changes nothing and writes nothing.
            if let Ok(after) = applied {
                for ((w, s, delta), level) in changes.into_iter().zip(after) {
                    levels[w][s] = level;
                    ledger.push((warehouses[w], skus[s].clone(), delta));
                }
            }
            for level in levels.iter().flatten() {
                prop_assert!(level.reserved <= level.on_hand);
                prop_assert!(level.available() >= Quantity::ZERO);
            }
        }

        let live: Vec<StockLevel> = levels.into_iter().flatten().collect();
        let sums = fold(ledger.iter().map(|(w, s, delta)| (*w, s, *delta)));
        prop_assert_eq!(drift(&live, &sums), Vec::<Drift>::new());
    }
}

#[test]
fn drift_names_each_level_that_disagrees_with_its_ledger() {
    let w = WarehouseId::new();
    let a = Sku::parse("A").unwrap();
    let mut level = StockLevel::empty(w, a.clone());
    level.on_hand = Quantity::new(7).unwrap();
    let sums = fold([(w, &a, d(5, 0, 0))]);
    let report = drift(&[level], &sums);
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].live.on_hand, 7);
    assert_eq!(report[0].ledger.on_hand, 5);
}

#[test]
fn a_ledger_entry_without_a_level_is_drift_too() {
    let w = WarehouseId::new();
    let a = Sku::parse("A").unwrap();
    let sums = fold([(w, &a, d(3, 0, 0))]);
    assert_eq!(drift(&[], &sums).len(), 1);
}
