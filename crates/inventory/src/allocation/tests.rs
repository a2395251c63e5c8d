use super::*;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn wh(n: u128) -> WarehouseId {
    WarehouseId::from_uuid(uuid::Uuid::from_u128(n))
}

/// `(warehouse, priority, sku, on_hand, reserved)`
fn snapshot(rows: &[(u128, i32, &str, i64, i64)]) -> StockSnapshot {
    StockSnapshot {
        rows: rows
            .iter()
            .map(|(w, p, s, on_hand, reserved)| LockedStock {
                warehouse_id: wh(*w),
                priority: *p,
                sku: sku(s),
                on_hand: *on_hand,
                reserved: *reserved,
                low_stock_threshold: None,
                // Each warehouse its own cut-off, so tests can tell where an order went.
                cutoff_minute: 600 + *w as i32,
            })
            .collect(),
        kits: HashMap::new(),
        rules: AllocationRules::default(),
    }
}

fn lines(ls: &[(&str, i64)]) -> Vec<LineRequest> {
    ls.iter()
        .enumerate()
        .map(|(i, (s, n))| LineRequest {
            line_no: i as u32 + 1,
            sku: sku(s),
            quantity: q(*n),
        })
        .collect()
}

/// `(warehouse, sku, quantity)` of every reservation.
fn reserved(plan: &AllocationPlan) -> Vec<(u128, String, i64)> {
    plan.reservations
        .iter()
        .map(|r| {
            (
                r.warehouse_id.into_uuid().as_u128(),
                r.sku.to_string(),
                r.quantity.as_i64(),
            )
        })
        .collect()
}

fn allocated(plan: &AllocationPlan) -> Vec<i64> {
    plan.allocated.iter().map(|a| a.as_i64()).collect()
}

#[test]
fn one_warehouse_that_has_everything_ships_it_all_even_if_it_is_not_first() {
    // W1 (first) has only A; W2 has A and B: the whole order goes to W2, one parcel.
    let s = snapshot(&[(1, 0, "A", 5, 0), (2, 1, "A", 5, 0), (2, 1, "B", 5, 0)]);
    let plan = plan(&lines(&[("A", 2), ("B", 1)]), &s);
    assert_eq!(allocated(&plan), [2, 1]);
    assert_eq!(reserved(&plan), [(2, "A".into(), 2), (2, "B".into(), 1)]);
}

#[test]
fn priority_decides_between_warehouses_that_could_each_ship_all() {
    let s = snapshot(&[(1, 5, "A", 5, 0), (2, 1, "A", 5, 0)]);
    let plan = plan(&lines(&[("A", 3)]), &s);
    assert_eq!(reserved(&plan), [(2, "A".into(), 3)]);
}

#[test]
fn when_none_has_everything_the_order_is_split() {
    let s = snapshot(&[(1, 0, "A", 5, 0), (2, 1, "B", 5, 0)]);
    let plan = plan(&lines(&[("A", 2), ("B", 3)]), &s);
    assert_eq!(allocated(&plan), [2, 3]);
    assert_eq!(reserved(&plan), [(1, "A".into(), 2), (2, "B".into(), 3)]);
}

#[test]
fn a_line_takes_from_several_warehouses_and_backorders_the_rest() {
    // A: 2 free in W1 (5 on hand, 3 reserved), 1 in W2 → 3 of 5; the other 2 are backordered.
    let s = snapshot(&[(1, 0, "A", 5, 3), (2, 1, "A", 1, 0)]);
    let plan = plan(&lines(&[("A", 5)]), &s);
    assert_eq!(allocated(&plan), [3]);
    assert_eq!(reserved(&plan), [(1, "A".into(), 2), (2, "A".into(), 1)]);
}

#[test]
fn two_lines_of_the_same_sku_never_take_more_than_exists() {
    let s = snapshot(&[(1, 0, "A", 3, 0)]);
    let plan = plan(&lines(&[("A", 2), ("A", 2)]), &s);
    assert_eq!(allocated(&plan), [2, 1]);
    assert_eq!(plan.reserved_by_sku()[&sku("A")], 3);
}

#[test]
fn nothing_in_stock_allocates_nothing() {
    let s = snapshot(&[(1, 0, "A", 0, 0)]);
    let plan = plan(&lines(&[("A", 2)]), &s);
    assert_eq!(allocated(&plan), [0]);
    assert!(plan.reservations.is_empty());
}

fn with_kit(mut s: StockSnapshot, kit: &str, components: &[(&str, i64)]) -> StockSnapshot {
    s.kits.insert(
        sku(kit),
        components
            .iter()
            .map(|(c, n)| KitComponent {
                sku: sku(c),
                quantity: q(*n),
            })
            .collect(),
    );
    s
}

#[test]
fn a_kit_reserves_its_components_in_whole_kits() {
    // GIFT = 2 × MUG + 1 × TEA. MUG 5 → 2 kits; TEA 10 → 10 kits; so 2 kits.
    let s = with_kit(
        snapshot(&[(1, 0, "MUG", 5, 0), (1, 0, "TEA", 10, 0)]),
        "GIFT",
        &[("MUG", 2), ("TEA", 1)],
    );
    let plan = plan(&lines(&[("GIFT", 3)]), &s);
    assert_eq!(allocated(&plan), [2]);
    assert_eq!(
        reserved(&plan),
        [(1, "MUG".into(), 4), (1, "TEA".into(), 2)]
    );
}

#[test]
fn a_kit_and_a_line_sharing_its_component_never_oversell_it() {
    // MUG 5: the kit line takes 2 kits = 4 mugs, the mug line gets the last 1 of its 3.
    let s = with_kit(snapshot(&[(1, 0, "MUG", 5, 0)]), "PAIR", &[("MUG", 2)]);
    let plan = plan(&lines(&[("PAIR", 2), ("MUG", 3)]), &s);
    assert_eq!(allocated(&plan), [2, 1]);
    assert_eq!(plan.reserved_by_sku()[&sku("MUG")], 5);
}

#[test]
fn a_kit_never_mixes_warehouses_within_one_kit() {
    // W1 has the MUG, W2 the TEA: no warehouse can assemble one kit.
    let s = with_kit(
        snapshot(&[(1, 0, "MUG", 5, 0), (2, 1, "TEA", 5, 0)]),
        "GIFT",
        &[("MUG", 1), ("TEA", 1)],
    );
    let plan = plan(&lines(&[("GIFT", 1)]), &s);
    assert_eq!(allocated(&plan), [0]);
}

#[test]
fn unknown_skus_are_those_neither_stocked_nor_kits() {
    let s = with_kit(snapshot(&[(1, 0, "A", 1, 0)]), "K", &[("A", 1)]);
    assert_eq!(
        s.unknown(&lines(&[("A", 1), ("K", 1), ("Z", 1), ("Z", 2)])),
        [sku("Z")]
    );
}

#[test]
fn physical_skus_expand_kits_sorted_and_unique() {
    let s = with_kit(StockSnapshot::default(), "K", &[("B", 1), ("C", 2)]);
    let skus = StockSnapshot::physical_skus(&lines(&[("K", 1), ("C", 1), ("A", 1)]), &s.kits);
    assert_eq!(skus, [sku("A"), sku("B"), sku("C")]);
}

/// The routing rules, as a table over one stock picture: warehouse 1 (priority 1) has 3 A and
/// 0 B, warehouse 2 (priority 2) has 2 A and 2 B; the order wants 2 A and 2 B.
#[test]
fn the_tenant_rules_decide_single_warehouse_split_or_backorder() {
    let rows = [
        (1, 1, "A", 3, 0),
        (1, 1, "B", 0, 0),
        (2, 2, "A", 2, 0),
        (2, 2, "B", 2, 0),
    ];
    let order = lines(&[("A", 2), ("B", 2)]);
    // (prefer single, allow split) → (A from w1, A from w2, B from w2, routed cut-off)
    let cases = [
        ((true, true), (0, 2, 2, 602)),  // warehouse 2 ships everything
        ((false, true), (2, 0, 2, 601)), // greedy by priority: A from 1, B from 2
        ((true, false), (0, 2, 2, 602)), // one warehouse that has it all
        ((false, false), (0, 2, 2, 602)),
    ];
    for ((prefer, split), (a1, a2, b2, cutoff)) in cases {
        let mut snap = snapshot(&rows);
        snap.rules = AllocationRules {
            prefer_single_warehouse: prefer,
            allow_split: split,
        };
        let plan = plan(&order, &snap);
        let got = |w: u128, s: &str| -> i64 {
            plan.reservations
                .iter()
                .filter(|r| r.warehouse_id == wh(w) && r.sku == sku(s))
                .map(|r| r.quantity.as_i64())
                .sum()
        };
        assert_eq!(
            (got(1, "A"), got(2, "A"), got(2, "B"), plan.cutoff_minute),
            (a1, a2, b2, Some(cutoff)),
            "prefer {prefer}, split {split}"
        );
        assert_eq!(plan.allocated, vec![q(2), q(2)]);
    }
}

#[test]
fn without_splitting_the_warehouse_giving_most_ships_and_the_rest_is_backordered() {
    // Nobody has everything: w1 has 2 A, w2 has 1 A and 1 B.
    let mut snap = snapshot(&[(1, 1, "A", 2, 0), (2, 2, "A", 1, 0), (2, 2, "B", 1, 0)]);
    snap.rules.allow_split = false;
    let plan = plan(&lines(&[("A", 2), ("B", 2)]), &snap);
    // w1 gives 2 units, w2 gives 2 units: a tie goes to the better priority.
    assert_eq!(plan.allocated, vec![q(2), q(0)]);
    assert!(plan.reservations.iter().all(|r| r.warehouse_id == wh(1)));
    assert_eq!(plan.cutoff_minute, Some(601));
}

#[test]
fn a_backorder_is_routed_to_the_first_choice_warehouse() {
    let plan = plan(
        &lines(&[("A", 2)]),
        &snapshot(&[(2, 5, "A", 0, 0), (1, 3, "A", 0, 0)]),
    );
    assert_eq!(plan.allocated, vec![q(0)]);
    assert_eq!(plan.cutoff_minute, Some(601));
}
