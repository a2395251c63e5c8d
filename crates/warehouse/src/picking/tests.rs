use super::*;
use crate::location::tests::bin;
use kernel::TenantId;

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn order(n: u128) -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(n))
}

fn now() -> DateTime<Utc> {
    "2025-03-01T09:00:00Z".parse().unwrap()
}

fn line(code: &str, sku: &str, quantity: i64, allocations: Vec<Allocation>) -> PickLine {
    PickLine {
        seq: 0,
        bin: bin(code, 1),
        sku: Sku::parse(sku).unwrap(),
        barcode: Some(format!("0000{sku}")),
        quantity: q(quantity),
        picked: Quantity::ZERO,
        short: Quantity::ZERO,
        allocations,
    }
}

fn alloc(order_no: u128, line_no: u32, quantity: i64) -> Allocation {
    Allocation {
        order_id: order(order_no),
        line_no,
        quantity: q(quantity),
    }
}

/// A-01 holds 3 × TEE for orders 1 (2) and 2 (1); B-01 holds 1 × MUG for order 1.
fn list() -> PickList {
    PickList::new(
        vec![order(1), order(2)],
        vec![
            line("A-01", "TEE", 3, vec![alloc(1, 1, 2), alloc(2, 1, 1)]),
            line("B-01", "MUG", 1, vec![alloc(1, 2, 1)]),
        ],
        vec![],
        now(),
    )
}

fn scan(id: u128, bin: &str, barcode: &str, quantity: u32) -> Scan {
    Scan {
        scan_id: Uuid::from_u128(id),
        bin: bin.into(),
        barcode: barcode.into(),
        quantity,
    }
}

#[test]
fn lines_are_numbered_in_walk_order_and_the_list_starts_open() {
    let l = list();
    assert_eq!(l.status(), PickStatus::Open);
    let seqs: Vec<u32> = l.lines().iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(l.total_units(), 4);
}

#[test]
fn a_right_scan_counts_units_and_points_to_the_same_line_until_it_is_done() {
    let mut l = list();
    let ScanOutcome::Next { line } = l.scan(scan(1, "a-01", "TEE", 2), now()).unwrap() else {
        panic!("expected the next line");
    };
    assert_eq!((line.seq, line.picked, line.remaining()), (1, q(2), q(1)));
    assert_eq!(l.status(), PickStatus::Picking);
}

#[test]
fn the_product_gtin_confirms_the_sku_too() {
    let mut l = list();
    let ScanOutcome::Next { line } = l.scan(scan(1, "A-01", "0000TEE", 3), now()).unwrap() else {
        panic!("expected the next line");
    };
    assert_eq!(line.seq, 2);
}

#[test]
fn the_last_scan_completes_the_list_with_one_completed_event() {
    let mut l = list();
    l.scan(scan(1, "A-01", "TEE", 3), now()).unwrap();
    assert_eq!(
        l.scan(scan(2, "B-01", "MUG", 1), now()).unwrap(),
        ScanOutcome::Complete
    );
    assert_eq!(l.status(), PickStatus::Complete);
    assert_eq!(l.completed_at(), Some(now()));
    assert_eq!(l.take_events(), vec![PickEvent::Completed]);
    assert_eq!(
        l.scan(scan(3, "B-01", "MUG", 1), now()),
        Err(PickError::AlreadyComplete)
    );
}

#[test]
fn a_replayed_scan_gives_the_stored_outcome_and_applies_nothing() {
    let mut l = list();
    let first = l.scan(scan(1, "A-01", "TEE", 1), now()).unwrap();
    let version = l.version();
    let again = l.scan(scan(1, "A-01", "TEE", 1), now()).unwrap();
    assert_eq!(again, first);
    assert_eq!(l.lines()[0].picked, q(1));
    assert_eq!(l.version(), version);
    assert_eq!(l.scans().len(), 1);
}

#[test]
fn a_scan_at_a_bin_with_nothing_to_pick_names_the_bin_to_go_to() {
    let mut l = list();
    let before = l.clone();
    let err = l.scan(scan(1, "C-09", "TEE", 1), now()).unwrap_err();
    assert_eq!(err.to_string(), "wrong bin: go to A-01");
    assert_eq!(l, before);
}

#[test]
fn a_wrong_item_in_the_right_bin_names_the_item_to_pick() {
    let mut l = list();
    let before = l.clone();
    let err = l.scan(scan(1, "A-01", "MUG", 1), now()).unwrap_err();
    assert_eq!(err.to_string(), "wrong item: pick TEE here");
    assert_eq!(l, before);
}

#[test]
fn scanning_more_than_is_left_is_refused_and_changes_nothing() {
    let mut l = list();
    l.scan(scan(1, "A-01", "TEE", 2), now()).unwrap();
    let err = l.scan(scan(2, "A-01", "TEE", 2), now()).unwrap_err();
    assert_eq!(err, PickError::TooMany { remaining: q(1) });
    assert_eq!(err.to_string(), "too many: only 1 left to pick here");
    assert_eq!(l.lines()[0].picked, q(2));
    assert_eq!(
        l.scan(scan(3, "A-01", "TEE", 0), now()),
        Err(PickError::ZeroQuantity)
    );
}

#[test]
fn a_short_pick_takes_the_missing_units_from_the_last_order_lines() {
    let mut l = list();
    l.scan(scan(1, "A-01", "TEE", 1), now()).unwrap();
    let shortage = l.short(1, q(1), now()).unwrap();
    assert_eq!(shortage.missing, q(2));
    assert_eq!(shortage.bin.code.as_str(), "A-01");
    assert_eq!(shortage.affected, vec![alloc(2, 1, 1), alloc(1, 1, 1)]);
    assert!(l.lines()[0].is_done());
    assert_eq!(l.current_line().map(|l| l.seq), Some(2));
    assert_eq!(l.take_events(), vec![PickEvent::Short(shortage)]);
}

#[test]
fn a_second_short_on_the_same_line_skips_units_already_reported() {
    let mut l = list();
    let first = l.short(1, q(2), now()).unwrap();
    assert_eq!(first.affected, vec![alloc(2, 1, 1)]);
    let second = l.short(1, q(0), now()).unwrap();
    assert_eq!(second.affected, vec![alloc(1, 1, 2)]);
    assert_eq!(l.lines()[0].short, q(3));
}

#[test]
fn a_short_pick_must_be_short_and_cannot_undo_picked_units() {
    let mut l = list();
    l.scan(scan(1, "A-01", "TEE", 2), now()).unwrap();
    assert_eq!(
        l.short(1, q(1), now()),
        Err(PickError::FoundFewerThanPicked { picked: q(2) })
    );
    assert_eq!(
        l.short(1, q(3), now()),
        Err(PickError::NotShort { expected: q(3) })
    );
    assert_eq!(l.short(9, q(0), now()), Err(PickError::UnknownLine(9)));
}

#[test]
fn shorting_the_last_open_units_completes_the_list() {
    let mut l = list();
    l.scan(scan(1, "A-01", "TEE", 3), now()).unwrap();
    l.short(2, q(0), now()).unwrap();
    assert_eq!(l.status(), PickStatus::Complete);
    let events: Vec<&str> = l.take_events().iter().map(PickEvent::event_type).collect();
    assert_eq!(events, ["pick.short", "picklist.completed"]);
}

#[test]
fn the_short_event_names_the_bin_and_the_affected_orders() {
    let mut l = list();
    let shortage = l.short(2, q(0), now()).unwrap();
    let ctx = RequestContext::new(TenantId::new(), "user:ana");
    let envelope = PickEvent::Short(shortage).to_envelope(&l, &ctx, now());
    assert_eq!(envelope.event_type, "pick.short");
    assert_eq!(envelope.aggregate_id, l.id());
    assert_eq!(envelope.payload["bin"], "B-01");
    assert_eq!(envelope.payload["missing"], 1);
    assert_eq!(envelope.payload["affected"][0]["line_no"], 2);
}

#[test]
fn a_restored_list_still_recognises_its_applied_scans() {
    let mut l = list();
    l.scan(scan(1, "A-01", "TEE", 1), now()).unwrap();
    let scans = l.scans().into_iter().cloned().collect();
    let mut restored = PickList::restore(
        l.id(),
        l.status(),
        l.orders().to_vec(),
        l.lines().to_vec(),
        vec![],
        scans,
        l.version(),
        l.created_at(),
        None,
    );
    restored.scan(scan(1, "A-01", "TEE", 1), now()).unwrap();
    assert_eq!(restored.lines()[0].picked, q(1));
}

#[test]
fn statuses_round_trip_through_their_stored_names() {
    for s in [PickStatus::Open, PickStatus::Picking, PickStatus::Complete] {
        assert_eq!(PickStatus::parse(s.as_str()), Some(s));
    }
    assert_eq!(PickStatus::parse("done"), None);
}
