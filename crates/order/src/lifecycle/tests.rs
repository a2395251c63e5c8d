use crate::model::tests::{line, new_order, now, order};
use crate::{
    Cutoff, NewOrder, NewShipment, OrderChanges, OrderError, OrderStatus, ServiceLevel,
    events::OrderEvent,
};
use chrono::Duration;
use kernel::{OrderId, Quantity, Sku, TenantId};

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn allocated(lines: &[(&str, i64, i64)]) -> crate::Order {
    let mut o = order(lines.iter().map(|(s, n, _)| line(s, *n)).collect());
    let got: Vec<Quantity> = lines.iter().map(|(_, _, g)| q(*g)).collect();
    o.allocate(&got, Cutoff::DEFAULT, now()).unwrap();
    o.take_events();
    o.take_status_changes();
    o
}

fn shipment(lines: &[(u32, i64)]) -> NewShipment {
    NewShipment {
        carrier: "UPS".into(),
        tracking_number: Some("1Z999".into()),
        lines: lines.to_vec(),
        ..Default::default()
    }
}

fn invalid_fields(err: OrderError) -> Vec<String> {
    match err {
        OrderError::Invalid(e) => e.0.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// `(sku, ordered, got)` per line.
type Lines<'a> = &'a [(&'a str, i64, i64)];

/// Placement outcomes, as a table: what stock gave each line → the status.
#[test]
fn placement_settles_the_status_from_what_each_line_got() {
    let cases: [(Lines, OrderStatus); 4] = [
        (&[("A", 2, 2), ("B", 1, 1)], OrderStatus::Allocated),
        (&[("A", 2, 0)], OrderStatus::Backordered),
        (&[("A", 2, 0), ("B", 1, 0)], OrderStatus::Backordered),
        (&[("A", 2, 2), ("B", 3, 1)], OrderStatus::PartiallyAllocated),
    ];
    for (lines, expected) in cases {
        let mut o = order(lines.iter().map(|(s, n, _)| line(s, *n)).collect());
        let got: Vec<Quantity> = lines.iter().map(|(_, _, g)| q(*g)).collect();
        o.allocate(&got, Cutoff::DEFAULT, now()).unwrap();
        assert_eq!(o.status, expected, "{lines:?}");
        assert_eq!(o.take_events(), vec![OrderEvent::Created]);
        let history = o.take_status_changes();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].to, expected);
        assert_eq!(o.version, 1);
    }
}

#[test]
fn placement_routes_the_ship_by_to_the_warehouse_cut_off() {
    let mut o = NewOrder {
        service_level: ServiceLevel::Overnight,
        ..new_order(vec![line("A", 1)])
    }
    .validate(OrderId::new(), TenantId::new(), now())
    .unwrap();
    // 09:30 Monday, cut-off 12:00: leaves today at noon.
    o.allocate(&[q(1)], Cutoff::parse("12:00").unwrap(), now())
        .unwrap();
    assert_eq!(o.ship_by, now() + Duration::minutes(150));
}

#[test]
fn without_backorders_a_short_order_is_refused_with_every_shortage() {
    let mut o = NewOrder {
        allow_backorder: false,
        ..new_order(vec![line("A", 2), line("B", 3), line("C", 1)])
    }
    .validate(OrderId::new(), TenantId::new(), now())
    .unwrap();
    let err = o
        .allocate(&[q(1), q(3), q(0)], Cutoff::DEFAULT, now())
        .unwrap_err();
    match err {
        OrderError::InsufficientStock(s) => {
            assert_eq!(s.len(), 2);
            assert_eq!(s[0].sku.as_str(), "A");
            assert_eq!(s[0].available, q(1));
            assert_eq!(s[1].sku.as_str(), "C");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(o.status, OrderStatus::Pending);
}

/// Backorder fills, as a table: (ordered, got at placement, arrives) → status after.
#[test]
fn stock_arriving_for_a_backorder_moves_it_forward() {
    let cases = [
        ((2, 0), 2, OrderStatus::Allocated),
        ((2, 0), 1, OrderStatus::PartiallyAllocated),
        ((3, 1), 2, OrderStatus::Allocated),
        ((3, 1), 5, OrderStatus::Allocated), // never more than the line misses
    ];
    for ((ordered, first), arrives, expected) in cases {
        let mut o = allocated(&[("A", ordered, first)]);
        assert!(o.fill_backorder(&[(1, q(arrives))], now()).unwrap());
        assert_eq!(o.status, expected);
        assert!(o.lines[0].allocated <= o.lines[0].quantity);
        assert_eq!(o.take_events(), vec![OrderEvent::Allocated]);
        assert_eq!(o.version, 2);
    }
}

#[test]
fn a_fill_with_nothing_free_changes_nothing() {
    let mut o = allocated(&[("A", 2, 0)]);
    assert!(!o.fill_backorder(&[(1, q(0))], now()).unwrap());
    assert_eq!(o.version, 1);
    assert!(o.take_events().is_empty());
}

#[test]
fn a_held_order_filled_resumes_to_the_new_allocation_status() {
    let mut o = allocated(&[("A", 2, 0)]);
    o.hold("fraud check".into(), now()).unwrap();
    o.fill_backorder(&[(1, q(2))], now()).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    o.release(None, now()).unwrap();
    assert_eq!(o.status, OrderStatus::Allocated);
}

#[test]
fn hold_needs_a_reason_and_release_goes_back_where_it_was() {
    let mut o = allocated(&[("A", 2, 1)]);
    let err = o.hold("  ".into(), now()).unwrap_err();
    assert_eq!(invalid_fields(err), vec!["reason"]);
    o.hold("address check".into(), now()).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.hold.as_ref().unwrap().reason, "address check");
    assert!(matches!(
        o.hold("again".into(), now()),
        Err(OrderError::IllegalTransition { .. })
    ));
    o.release(Some("verified".into()), now()).unwrap();
    assert_eq!(o.status, OrderStatus::PartiallyAllocated);
    assert!(o.hold.is_none());
    let history = o.take_status_changes();
    assert_eq!(history[0].reason.as_deref(), Some("address check"));
    assert_eq!(history[1].to, OrderStatus::PartiallyAllocated);
    assert_eq!(
        o.take_events(),
        vec![OrderEvent::Held, OrderEvent::Released]
    );
}

#[test]
fn releasing_an_order_not_on_hold_is_refused() {
    let mut o = allocated(&[("A", 1, 1)]);
    assert!(matches!(
        o.release(None, now()),
        Err(OrderError::IllegalTransition { .. })
    ));
}

#[test]
fn editing_address_and_service_level_keeps_stock_and_moves_ship_by() {
    let mut o = allocated(&[("A", 1, 1)]);
    let before = o.ship_by;
    let replan = o
        .edit(
            OrderChanges {
                service_level: Some(ServiceLevel::Overnight),
                ship_to: Some(crate::Address {
                    name: "Grace Hopper".into(),
                    line1: "2 Navy Way".into(),
                    city: "Arlington".into(),
                    country: "us".into(),
                    ..Default::default()
                }),
                lines: None,
            },
            now(),
        )
        .unwrap();
    assert!(!replan);
    assert_eq!(o.ship_to.country, "US");
    assert!(o.ship_by < before);
    assert_eq!(o.status, OrderStatus::Allocated);
    assert_eq!(
        o.take_events(),
        vec![OrderEvent::Updated {
            changed: vec!["ship_to".into(), "service_level".into()]
        }]
    );
}

#[test]
fn editing_lines_asks_for_a_replan_that_settles_the_status() {
    let mut o = allocated(&[("A", 1, 1)]);
    let replan = o
        .edit(
            OrderChanges {
                lines: Some(vec![line("A", 1), line("B", 4)]),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
    assert!(replan);
    assert_eq!(o.total.amount_minor, 5 * 1_250);
    o.replan(&[q(1), q(0)], Cutoff::DEFAULT, now()).unwrap();
    assert_eq!(o.status, OrderStatus::PartiallyAllocated);
    assert_eq!(o.lines[1].backordered(), q(4));
}

#[test]
fn bad_edits_are_refused_with_every_field_and_change_nothing() {
    let mut o = allocated(&[("A", 1, 1)]);
    let before = o.clone();
    let mut eur = line("B", 1);
    eur.currency = "EUR".into();
    let err = o
        .edit(
            OrderChanges {
                lines: Some(vec![line("A", 0), eur]),
                ship_to: Some(crate::Address::default()),
                ..Default::default()
            },
            now(),
        )
        .unwrap_err();
    let fields = invalid_fields(err);
    assert!(fields.contains(&"lines[0].quantity".to_string()));
    assert!(fields.contains(&"lines[1].unit_price.currency".to_string()));
    assert!(fields.contains(&"ship_to.name".to_string()));
    assert_eq!(o, before);
    assert!(matches!(
        o.edit(OrderChanges::default(), now()),
        Err(OrderError::Invalid(_))
    ));
}

#[test]
fn once_picking_starts_the_order_cannot_be_edited() {
    let mut o = allocated(&[("A", 1, 1)]);
    o.start_picking(now()).unwrap();
    let err = o
        .edit(
            OrderChanges {
                service_level: Some(ServiceLevel::Expedited),
                ..Default::default()
            },
            now(),
        )
        .unwrap_err();
    assert!(matches!(err, OrderError::NotEditable(OrderStatus::Picking)));
}

#[test]
fn a_full_journey_tracks_each_line_and_every_step() {
    let mut o = allocated(&[("A", 3, 3), ("B", 1, 1)]);
    o.start_picking(now()).unwrap();
    o.pack(now()).unwrap();
    assert_eq!(o.lines[0].picked, q(3));
    let first = o.ship(shipment(&[(1, 2)]), now()).unwrap();
    assert_eq!(o.status, OrderStatus::PartiallyShipped);
    assert_eq!(first.lines[0].sku, Sku::parse("A").unwrap());
    assert_eq!(first.carrier, "ups");
    assert_eq!(o.lines[0].reserved(), q(1));
    o.ship(shipment(&[(1, 1), (2, 1)]), now()).unwrap();
    assert_eq!(o.status, OrderStatus::Shipped);
    o.deliver(now()).unwrap();
    assert_eq!(o.status, OrderStatus::Delivered);
    let kinds: Vec<&str> = o.take_events().iter().map(|e| e.event_type()).collect();
    assert_eq!(
        kinds,
        [
            "order.picking",
            "order.packed",
            "order.shipped",
            "order.shipped",
            "order.delivered"
        ]
    );
    let to: Vec<OrderStatus> = o.take_status_changes().iter().map(|c| c.to).collect();
    assert_eq!(
        to,
        [
            OrderStatus::Picking,
            OrderStatus::Packed,
            OrderStatus::PartiallyShipped,
            OrderStatus::Shipped,
            OrderStatus::Delivered
        ]
    );
}

#[test]
fn a_partly_allocated_order_ships_what_it_has_and_the_rest_later() {
    let mut o = allocated(&[("A", 4, 1)]);
    o.ship(shipment(&[(1, 1)]), now()).unwrap();
    assert_eq!(o.status, OrderStatus::PartiallyShipped);
    assert!(o.fill_backorder(&[(1, q(3))], now()).unwrap());
    assert_eq!(o.status, OrderStatus::PartiallyShipped);
    o.ship(shipment(&[(1, 3)]), now()).unwrap();
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.lines[0].shipped, q(4));
}

#[test]
fn a_shipment_beyond_what_is_reserved_or_for_no_line_is_refused_whole() {
    let mut o = allocated(&[("A", 3, 2)]);
    let before = o.clone();
    let err = o
        .ship(shipment(&[(1, 3), (9, 1), (1, 1)]), now())
        .unwrap_err();
    assert_eq!(
        invalid_fields(err),
        vec!["lines[2].line_no", "lines[0].quantity", "lines[1].line_no"]
    );
    assert_eq!(o, before);
    let err = o
        .ship(
            NewShipment {
                carrier: "".into(),
                tracking_url: Some("javascript:alert(1)".into()),
                lines: vec![],
                ..Default::default()
            },
            now(),
        )
        .unwrap_err();
    assert_eq!(
        invalid_fields(err),
        vec!["carrier", "tracking_url", "lines"]
    );
}

#[test]
fn a_backordered_order_cannot_ship_or_be_picked() {
    let mut o = allocated(&[("A", 3, 0)]);
    assert!(matches!(
        o.ship(shipment(&[(1, 1)]), now()),
        Err(OrderError::IllegalTransition { .. })
    ));
    assert!(matches!(
        o.start_picking(now()),
        Err(OrderError::IllegalTransition { .. })
    ));
}

#[test]
fn cancelling_releases_every_reservation_once() {
    let mut o = allocated(&[("A", 2, 2), ("B", 3, 1)]);
    let released = o.cancel(Some("customer asked".into()), now()).unwrap();
    assert_eq!(
        released,
        vec![
            (Sku::parse("A").unwrap(), q(2)),
            (Sku::parse("B").unwrap(), q(1))
        ]
    );
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.version, 2);
    assert!(o.lines.iter().all(|l| l.allocated.is_zero()));
    assert_eq!(
        o.take_events(),
        vec![OrderEvent::Cancelled {
            reason: Some("customer asked".into())
        }]
    );
    assert!(matches!(
        o.cancel(None, now()),
        Err(OrderError::IllegalTransition {
            from: OrderStatus::Cancelled,
            to: OrderStatus::Cancelled
        })
    ));
}

#[test]
fn after_the_first_parcel_the_order_cannot_be_cancelled() {
    let mut o = allocated(&[("A", 2, 2)]);
    o.ship(shipment(&[(1, 1)]), now()).unwrap();
    assert!(matches!(
        o.cancel(None, now()),
        Err(OrderError::IllegalTransition { .. })
    ));
}
