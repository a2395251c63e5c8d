use super::*;
use crate::model::tests::{line, order};
use crate::{Cutoff, NewShipment};
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

/// An order of 3 A (1,250 each) and 2 B, all shipped.
fn shipped() -> Order {
    let mut o = order(vec![line("A", 3), line("B", 2)]);
    o.allocate(&[q(3), q(2)], Cutoff::DEFAULT, now()).unwrap();
    o.ship(
        NewShipment {
            carrier: "ups".into(),
            lines: vec![(1, 3), (2, 2)],
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    o
}

fn ask(lines: &[(u32, i64)]) -> NewReturn {
    NewReturn {
        lines: lines
            .iter()
            .map(|(n, q)| (*n, *q, "damaged".to_owned(), None))
            .collect(),
        exchange: vec![],
    }
}

fn requested(lines: &[(u32, i64)]) -> ReturnAuthorization {
    ask(lines)
        .validate(ReturnId::new(), &shipped(), &[], now())
        .unwrap()
}

fn fields(e: OrderError) -> Vec<String> {
    match e {
        OrderError::Invalid(v) => v.0.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn exactly_the_listed_return_transitions_are_legal() {
    use ReturnStatus::*;
    let legal = [
        (Requested, Approved),
        (Requested, Rejected),
        (Approved, Received),
        (Received, Inspected),
        (Inspected, Refunded),
    ];
    for from in ReturnStatus::ALL {
        assert_eq!(ReturnStatus::parse(from.as_str()), Some(from));
        for to in ReturnStatus::ALL {
            assert_eq!(
                from.can_become(to),
                legal.contains(&(from, to)),
                "{from:?} -> {to:?}"
            );
        }
    }
}

#[test]
fn only_shipped_units_not_yet_returned_or_pending_can_come_back() {
    let o = shipped();
    // 3 A shipped, 1 already under an open return: at most 2 more.
    let err = ask(&[(1, 3)])
        .validate(ReturnId::new(), &o, &[(1, 1)], now())
        .unwrap_err();
    assert_eq!(fields(err), vec!["lines[0].quantity"]);
    let ok = ask(&[(1, 2)])
        .validate(ReturnId::new(), &o, &[(1, 1)], now())
        .unwrap();
    assert_eq!(ok.lines[0].quantity, q(2));
    assert!(ok.rma_number.starts_with("RMA-"));
    let err = NewReturn {
        lines: vec![(9, 1, "damaged".into(), None), (2, 1, "bored".into(), None)],
        exchange: vec![("bad sku!".into(), 0)],
    }
    .validate(ReturnId::new(), &o, &[], now())
    .unwrap_err();
    assert_eq!(
        fields(err),
        vec![
            "lines[0].line_no",
            "lines[1].reason",
            "exchange[0].sku",
            "exchange[0].quantity"
        ]
    );
}

#[test]
fn an_order_that_has_not_shipped_cannot_be_returned() {
    let mut o = order(vec![line("A", 1)]);
    o.allocate(&[q(1)], Cutoff::DEFAULT, now()).unwrap();
    assert!(matches!(
        ask(&[(1, 1)]).validate(ReturnId::new(), &o, &[], now()),
        Err(OrderError::NotReturnable(OrderStatus::Allocated))
    ));
}

#[test]
fn a_return_goes_from_request_to_refund_and_records_each_step() {
    let mut r = requested(&[(1, 3), (2, 1)]);
    r.approve(now()).unwrap();
    let got = r.receive(&[(1, 3)], now()).unwrap();
    assert_eq!(got, vec![(1, q(3))]);
    let restock = r.inspect(&[(1, 2, 1)], now()).unwrap();
    assert_eq!(restock, vec![(1, Sku::parse("A").unwrap(), q(2))]);
    assert_eq!(r.refundable().amount_minor, 3 * 1_250);
    let refund = r.refund(None, now()).unwrap();
    assert_eq!(refund.amount_minor, 3 * 1_250);
    assert_eq!(r.status, ReturnStatus::Refunded);
    let ctx = RequestContext::new(r.tenant_id, "user:x");
    let events = r.take_events(&ctx, now());
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "return.initiated",
            "return.approved",
            "return.received",
            "return.inspected",
            "return.refunded"
        ]
    );
    let received = &events[2].payload;
    assert_eq!(received["rma_number"], r.rma_number.as_str());
    assert_eq!(received["lines"][0]["quantity"], 3);
    assert_eq!(received["lines"][1]["quantity"], 0);
}

#[test]
fn steps_out_of_order_are_refused_and_change_nothing() {
    let mut r = requested(&[(1, 1)]);
    let before = r.clone();
    assert!(matches!(
        r.receive(&[(1, 1)], now()),
        Err(OrderError::IllegalReturnTransition { .. })
    ));
    assert!(matches!(
        r.refund(None, now()),
        Err(OrderError::IllegalReturnTransition { .. })
    ));
    assert_eq!(r, before);
    r.reject("outside the 30 days".into(), now()).unwrap();
    assert!(matches!(
        r.approve(now()),
        Err(OrderError::IllegalReturnTransition { .. })
    ));
}

#[test]
fn receiving_and_inspecting_must_add_up() {
    let mut r = requested(&[(1, 2)]);
    r.approve(now()).unwrap();
    assert_eq!(
        fields(r.receive(&[(1, 3)], now()).unwrap_err()),
        vec!["lines[0].quantity"]
    );
    assert_eq!(
        fields(r.receive(&[(1, 0)], now()).unwrap_err()),
        vec!["lines"]
    );
    r.receive(&[(1, 2)], now()).unwrap();
    assert_eq!(
        fields(r.inspect(&[(1, 1, 0)], now()).unwrap_err()),
        vec!["lines[1]"]
    );
    assert_eq!(r.status, ReturnStatus::Received);
    r.inspect(&[(1, 0, 2)], now()).unwrap();
    assert_eq!(r.lines[0].disposed, q(2));
    assert_eq!(
        fields(r.refund(Some(2_501), now()).unwrap_err()),
        vec!["amount_minor"]
    );
    assert_eq!(r.refund(Some(1_000), now()).unwrap().amount_minor, 1_000);
}
