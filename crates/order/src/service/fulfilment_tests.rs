//! Use cases that move an order along, against mocked ports: what they read, in which order
//! they touch stock, and that a refusal writes nothing.

use super::backorders::skus_freed_by;
use super::*;
use crate::model::tests::{line, new_order, now};
use crate::ports::{MockOrderQueries, MockOrderTransaction, MockOrderUnitOfWork, StockOutcome};
use crate::{Cutoff, NewShipment, OrderChanges, OrderStatus};
use kernel::{EventEnvelope, FixedClock, Quantity, Sku, TenantId};
use serde_json::json;
use std::sync::{Arc, Mutex};

fn ctx() -> RequestContext {
    RequestContext::new(TenantId::new(), "user:test")
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn placed(tenant: TenantId, lines: &[(&str, i64, i64)]) -> Order {
    let mut o = new_order(lines.iter().map(|(s, n, _)| line(s, *n)).collect())
        .validate(OrderId::new(), tenant, now())
        .unwrap();
    let got: Vec<Quantity> = lines.iter().map(|(_, _, g)| q(*g)).collect();
    o.allocate(&got, Cutoff::DEFAULT, now()).unwrap();
    o.take_events();
    o.take_status_changes();
    o
}

fn service(
    uow: MockOrderUnitOfWork,
    queries: MockOrderQueries,
) -> OrderService<MockOrderUnitOfWork, MockOrderQueries, FixedClock> {
    OrderService::new(uow, queries, FixedClock::at(now()))
}

/// A unit of work handing out these transactions, one per `begin`.
fn uow_of(txs: Vec<MockOrderTransaction>) -> MockOrderUnitOfWork {
    let txs = Mutex::new(txs.into_iter().rev().collect::<Vec<_>>());
    let mut uow = MockOrderUnitOfWork::new();
    uow.expect_begin().returning(move |_| {
        let tx = txs
            .lock()
            .unwrap()
            .pop()
            .expect("no more transactions expected");
        Ok(Box::new(tx))
    });
    uow
}

fn expect_saved(tx: &mut MockOrderTransaction, log: Arc<Mutex<Vec<String>>>) {
    let l = log.clone();
    tx.expect_update_order().times(1).returning(move |_, _| {
        l.lock().unwrap().push("update".into());
        Ok(())
    });
    tx.expect_record_status_changes()
        .returning(|_, _, _| Ok(()));
    let l = log.clone();
    tx.expect_append_events().times(1).returning(move |events| {
        for e in events {
            l.lock().unwrap().push(e.event_type.clone());
        }
        Ok(())
    });
    tx.expect_commit().times(1).returning(|| Ok(()));
}

#[tokio::test]
async fn editing_lines_releases_before_reserving_again_in_one_transaction() {
    let ctx = ctx();
    let order = placed(ctx.tenant_id, &[("A", 2, 2)]);
    let id = order.id;
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    let l = log.clone();
    tx.expect_release_all().times(1).returning(move |r| {
        assert!(r.lines.is_empty());
        l.lock().unwrap().push("release".into());
        Ok(())
    });
    let l = log.clone();
    tx.expect_reserve_lines().times(1).returning(move |r| {
        l.lock().unwrap().push(format!("reserve {}", r.lines.len()));
        Ok(StockOutcome {
            allocated: vec![q(1), q(0)],
            cutoff: Cutoff::DEFAULT,
        })
    });
    expect_saved(&mut tx, log.clone());
    let edited = service(uow_of(vec![tx]), MockOrderQueries::new())
        .edit(
            &ctx,
            id,
            OrderChanges {
                lines: Some(vec![line("A", 1), line("B", 3)]),
                ..Default::default()
            },
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(edited.status, OrderStatus::PartiallyAllocated);
    assert_eq!(
        *log.lock().unwrap(),
        ["release", "reserve 2", "update", "order.updated"]
    );
}

#[tokio::test]
async fn a_stale_if_match_edits_nothing() {
    let ctx = ctx();
    let order = placed(ctx.tenant_id, &[("A", 2, 2)]);
    let id = order.id;
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    tx.expect_release_all().never();
    tx.expect_update_order().never();
    tx.expect_commit().never();
    let err = service(uow_of(vec![tx]), MockOrderQueries::new())
        .edit(&ctx, id, OrderChanges::default(), Some(9))
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::VersionConflict));
}

#[tokio::test]
async fn a_shipment_consumes_exactly_its_units_and_is_recorded() {
    let ctx = ctx();
    let order = placed(ctx.tenant_id, &[("A", 3, 3), ("B", 1, 1)]);
    let id = order.id;
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    tx.expect_consume_shipment()
        .withf(move |r| {
            r.reference == format!("order:{id}")
                && r.lines == vec![(1, Sku::parse("A").unwrap(), Quantity::new(2).unwrap())]
        })
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_insert_shipment()
        .withf(|s| s.carrier == "dhl" && s.lines.len() == 1)
        .times(1)
        .returning(|_| Ok(()));
    expect_saved(&mut tx, log.clone());
    let (order, shipment) = service(uow_of(vec![tx]), MockOrderQueries::new())
        .ship(
            &ctx,
            id,
            NewShipment {
                carrier: "DHL".into(),
                lines: vec![(1, 2)],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::PartiallyShipped);
    assert_eq!(shipment.lines[0].quantity, q(2));
    assert_eq!(
        *log.lock().unwrap(),
        ["update", "order.shipped", "shipment.created"]
    );
}

#[tokio::test]
async fn an_invalid_shipment_touches_no_stock() {
    let ctx = ctx();
    let order = placed(ctx.tenant_id, &[("A", 3, 1)]);
    let id = order.id;
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    tx.expect_consume_shipment().never();
    tx.expect_commit().never();
    let err = service(uow_of(vec![tx]), MockOrderQueries::new())
        .ship(
            &ctx,
            id,
            NewShipment {
                carrier: "ups".into(),
                lines: vec![(1, 2)],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::Invalid(_)));
}

#[tokio::test]
async fn a_fill_serves_the_queue_in_order_and_stops_once_the_sku_runs_out() {
    let ctx = ctx();
    let orders: Vec<Order> = (0..3)
        .map(|_| placed(ctx.tenant_id, &[("A", 2, 0)]))
        .collect();
    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let mut queries = MockOrderQueries::new();
    let queue = ids.clone();
    queries
        .expect_waiting_for_stock()
        .times(1)
        .returning(move |_, _, _| Ok(queue.clone()));
    // First order gets everything, second gets 1 of 2 (the SKU is now empty), third is not
    // even opened.
    let mut txs = Vec::new();
    for (order, got) in orders.into_iter().zip([2, 1]) {
        let mut tx = MockOrderTransaction::new();
        tx.expect_lock_order()
            .returning(move |_| Ok(Some(order.clone())));
        tx.expect_reserve_lines()
            .withf(|r| r.lines.len() == 1 && r.lines[0].2 == Quantity::new(2).unwrap())
            .returning(move |_| {
                Ok(StockOutcome {
                    allocated: vec![q(got)],
                    cutoff: Cutoff::DEFAULT,
                })
            });
        expect_saved(&mut tx, Default::default());
        txs.push(tx);
    }
    let report = service(uow_of(txs), queries)
        .fill_backorders(&ctx, &[Sku::parse("A").unwrap()])
        .await
        .unwrap();
    assert_eq!(report.filled, ids[..2]);
    assert_eq!(report.examined, 2);
}

fn envelope(event_type: &str, payload: serde_json::Value) -> EventEnvelope {
    EventEnvelope::new(
        event_type,
        TenantId::new(),
        now(),
        "x",
        uuid::Uuid::now_v7(),
        1,
        payload,
        None,
    )
}

#[test]
fn only_events_that_free_stock_name_skus_to_fill() {
    let sku = |s: &str| Sku::parse(s).unwrap();
    let cases = [
        (
            "inventory.changed",
            json!({ "sku": "A", "on_hand_delta": 5 }),
            vec![sku("A")],
        ),
        (
            "inventory.changed",
            json!({ "sku": "A", "on_hand_delta": -2 }),
            vec![],
        ),
        ("inventory.changed", json!({ "sku": "A" }), vec![]),
        (
            "order.cancelled",
            json!({ "lines": [{ "sku": "B" }, { "sku": "A" }, { "sku": "B" }] }),
            vec![sku("A"), sku("B")],
        ),
        (
            "reservation.expired",
            json!({ "lines": [{ "sku": "C" }] }),
            vec![sku("C")],
        ),
        (
            "order.created",
            json!({ "lines": [{ "sku": "A" }] }),
            vec![],
        ),
    ];
    for (event_type, payload, expected) in cases {
        assert_eq!(
            skus_freed_by(&envelope(event_type, payload.clone())),
            expected,
            "{event_type} {payload}"
        );
    }
}

fn picking(tenant: TenantId, lines: &[(&str, i64, i64)]) -> Order {
    let mut o = placed(tenant, lines);
    o.start_picking(now()).unwrap();
    o.take_events();
    o.take_status_changes();
    o
}

#[tokio::test]
async fn a_short_pick_writes_off_the_units_and_backorders_them_in_one_transaction() {
    let ctx = ctx();
    let order = picking(ctx.tenant_id, &[("A", 3, 3)]);
    let id = order.id;
    let warehouse = kernel::WarehouseId::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    let l = log.clone();
    tx.expect_write_off_reserved()
        .withf(move |r, w, reason| {
            r.reference == format!("order:{id}")
                && r.lines == vec![(1, Sku::parse("A").unwrap(), Quantity::new(2).unwrap())]
                && *w == warehouse
                && reason.contains("A-01")
        })
        .times(1)
        .returning(move |_, _, _| {
            l.lock().unwrap().push("write-off".into());
            Ok(())
        });
    expect_saved(&mut tx, log.clone());
    let order = service(uow_of(vec![tx]), MockOrderQueries::new())
        .short_pick(
            &ctx,
            id,
            warehouse,
            1,
            q(2),
            "short pick in bin A-01".into(),
        )
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Picking);
    assert_eq!(order.lines[0].allocated, q(1));
    assert_eq!(order.lines[0].backordered(), q(2));
    assert_eq!(order.backorders().len(), 1);
    assert_eq!(
        *log.lock().unwrap(),
        ["write-off", "update", "order.short_picked"]
    );
}

#[tokio::test]
async fn a_short_pick_of_more_than_the_line_holds_writes_nothing() {
    let ctx = ctx();
    let order = picking(ctx.tenant_id, &[("A", 3, 2), ("B", 1, 1)]);
    let id = order.id;
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    tx.expect_write_off_reserved().never();
    tx.expect_update_order().never();
    tx.expect_commit().never();
    let err = service(uow_of(vec![tx]), MockOrderQueries::new())
        .short_pick(&ctx, id, kernel::WarehouseId::new(), 1, q(3), "bin".into())
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::Invalid(_)), "{err}");
}

#[tokio::test]
async fn a_packed_order_cannot_be_short_picked() {
    let ctx = ctx();
    let mut order = picking(ctx.tenant_id, &[("A", 1, 1)]);
    order.pack(now()).unwrap();
    let id = order.id;
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    tx.expect_write_off_reserved().never();
    tx.expect_commit().never();
    let err = service(uow_of(vec![tx]), MockOrderQueries::new())
        .short_pick(&ctx, id, kernel::WarehouseId::new(), 1, q(1), "bin".into())
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::IllegalTransition { .. }), "{err}");
}
