use super::*;
use crate::OrderStatus;
use crate::model::tests::{line, new_order, now};
use crate::ports::{MockOrderQueries, MockOrderTransaction, MockOrderUnitOfWork, StockOutcome};
use kernel::{FixedClock, Quantity, Sku, TenantId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

fn ctx() -> RequestContext {
    RequestContext::new(TenantId::new(), "api_key:test")
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn uow_with(tx: MockOrderTransaction) -> MockOrderUnitOfWork {
    let mut uow = MockOrderUnitOfWork::new();
    let mut tx = Some(tx);
    uow.expect_begin()
        .times(1)
        .returning(move |_| Ok(Box::new(tx.take().expect("begun once"))));
    uow
}

fn service(
    uow: MockOrderUnitOfWork,
    queries: MockOrderQueries,
) -> OrderService<MockOrderUnitOfWork, MockOrderQueries, FixedClock> {
    OrderService::new(uow, queries, FixedClock::at(now()))
}

/// A transaction whose stock answers from `available` and records the order of reservations.
fn tx_with_stock(available: &[(&str, i64)], log: Arc<Mutex<Vec<String>>>) -> MockOrderTransaction {
    let stock: HashMap<String, i64> = available.iter().map(|(s, n)| (s.to_string(), *n)).collect();
    let mut tx = MockOrderTransaction::new();
    tx.expect_find_idempotency().returning(|_| Ok(None));
    tx.expect_find_by_external_id().returning(|_, _| Ok(None));
    tx.expect_reserve_lines().returning(move |request| {
        let mut unknown = Vec::new();
        let mut got = Vec::new();
        for (_, sku, quantity) in &request.lines {
            log.lock().unwrap().push(sku.to_string());
            match stock.get(sku.as_str()) {
                Some(n) => got.push((*quantity).min(q(*n))),
                None if unknown.contains(sku) => {}
                None => unknown.push(sku.clone()),
            }
        }
        if unknown.is_empty() {
            Ok(StockOutcome {
                allocated: got,
                cutoff: crate::Cutoff::DEFAULT,
            })
        } else {
            Err(OrderError::UnknownSkus(unknown))
        }
    });
    tx
}

fn expect_writes(tx: &mut MockOrderTransaction) {
    tx.expect_insert_order().times(1).returning(|_| Ok(()));
    tx.expect_record_status_changes()
        .withf(|_, changes, actor| changes.len() == 1 && actor == "api_key:test")
        .times(1)
        .returning(|_, _, _| Ok(()));
    tx.expect_append_events()
        .withf(|e| e.len() == 1 && e[0].event_type == "order.created")
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_commit().times(1).returning(|| Ok(()));
}

fn expect_no_writes(tx: &mut MockOrderTransaction) {
    tx.expect_insert_order().never();
    tx.expect_append_events().never();
    tx.expect_commit().never();
}

#[tokio::test]
async fn an_order_with_stock_for_every_line_is_allocated_and_written_in_one_commit() {
    let mut tx = tx_with_stock(&[("A", 5), ("B", 5)], Default::default());
    expect_writes(&mut tx);
    let placed = service(uow_with(tx), MockOrderQueries::new())
        .place(&ctx(), new_order(vec![line("A", 2), line("B", 1)]), None)
        .await
        .unwrap();
    let Placement::Created(order) = placed else {
        panic!("expected a new order")
    };
    assert_eq!(order.status, OrderStatus::Allocated);
}

#[tokio::test]
async fn every_line_is_asked_for_in_one_request_in_line_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut tx = tx_with_stock(&[("A", 5), ("B", 5), ("C", 5)], log.clone());
    expect_writes(&mut tx);
    service(uow_with(tx), MockOrderQueries::new())
        .place(
            &ctx(),
            new_order(vec![line("C", 1), line("A", 1), line("B", 1)]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(*log.lock().unwrap(), vec!["C", "A", "B"]);
}

#[tokio::test]
async fn a_short_order_with_backorders_allowed_is_partially_allocated() {
    let mut tx = tx_with_stock(&[("A", 1), ("B", 5)], Default::default());
    expect_writes(&mut tx);
    let placed = service(uow_with(tx), MockOrderQueries::new())
        .place(&ctx(), new_order(vec![line("A", 3), line("B", 1)]), None)
        .await
        .unwrap();
    let order = placed.order();
    assert_eq!(order.status, OrderStatus::PartiallyAllocated);
    assert_eq!(order.lines[0].allocated, q(1));
}

#[tokio::test]
async fn a_short_order_without_backorders_writes_nothing() {
    let mut tx = tx_with_stock(&[("A", 1)], Default::default());
    expect_no_writes(&mut tx);
    let draft = NewOrder {
        allow_backorder: false,
        ..new_order(vec![line("A", 3)])
    };
    let err = service(uow_with(tx), MockOrderQueries::new())
        .place(&ctx(), draft, None)
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::InsufficientStock(_)));
}

#[tokio::test]
async fn unknown_skus_are_all_named_and_nothing_is_written() {
    let mut tx = tx_with_stock(&[("A", 1)], Default::default());
    expect_no_writes(&mut tx);
    let err = service(uow_with(tx), MockOrderQueries::new())
        .place(
            &ctx(),
            new_order(vec![line("X", 1), line("A", 1), line("Y", 1), line("X", 2)]),
            None,
        )
        .await
        .unwrap_err();
    match err {
        OrderError::UnknownSkus(skus) => {
            let names: Vec<_> = skus.iter().map(Sku::as_str).collect();
            assert_eq!(names, vec!["X", "Y"]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn an_invalid_order_never_opens_a_transaction() {
    let mut uow = MockOrderUnitOfWork::new();
    uow.expect_begin().never();
    let err = service(uow, MockOrderQueries::new())
        .place(&ctx(), new_order(vec![line("A", -2)]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::Invalid(_)));
}

#[tokio::test]
async fn the_same_channel_order_sent_twice_returns_the_first_without_reserving() {
    let first = new_order(vec![line("A", 1)])
        .validate(OrderId::new(), TenantId::new(), now())
        .unwrap();
    let first_id = first.id;
    let mut tx = MockOrderTransaction::new();
    tx.expect_find_by_external_id()
        .withf(|channel, ext| channel == "shopify" && ext == "#1001")
        .returning(move |_, _| Ok(Some(first.clone())));
    tx.expect_reserve_lines().never();
    expect_no_writes(&mut tx);
    let draft = NewOrder {
        channel: Some("Shopify".into()),
        external_id: Some("#1001".into()),
        ..new_order(vec![line("A", 1)])
    };
    let placed = service(uow_with(tx), MockOrderQueries::new())
        .place(&ctx(), draft, None)
        .await
        .unwrap();
    assert!(matches!(&placed, Placement::Existing(o) if o.id == first_id));
}

#[tokio::test]
async fn losing_the_race_on_external_id_answers_with_the_winners_order() {
    let winner = new_order(vec![line("A", 1)])
        .validate(OrderId::new(), TenantId::new(), now())
        .unwrap();
    let winner_id = winner.id;
    let mut tx = tx_with_stock(&[("A", 5)], Default::default());
    tx.expect_insert_order()
        .returning(|_| Err(OrderError::DuplicateExternalId));
    tx.expect_commit().never();
    let mut queries = MockOrderQueries::new();
    queries
        .expect_find_by_external_id()
        .returning(move |_, _, _| Ok(Some(winner.clone())));
    let draft = NewOrder {
        external_id: Some("ext-1".into()),
        ..new_order(vec![line("A", 1)])
    };
    let placed = service(uow_with(tx), queries)
        .place(&ctx(), draft, None)
        .await
        .unwrap();
    assert!(matches!(&placed, Placement::Existing(o) if o.id == winner_id));
}

fn idem(fingerprint: &str) -> IdempotencyRequest {
    IdempotencyRequest {
        key: "key-1".into(),
        fingerprint: fingerprint.into(),
    }
}

#[tokio::test]
async fn a_repeated_idempotency_key_with_the_same_body_replays_the_first_order() {
    let first = new_order(vec![line("A", 1)])
        .validate(OrderId::new(), TenantId::new(), now())
        .unwrap();
    let first_id = first.id;
    let mut tx = MockOrderTransaction::new();
    tx.expect_find_idempotency().returning(move |_| {
        Ok(Some(IdempotencyRecord {
            key: "key-1".into(),
            fingerprint: "fp".into(),
            order_id: first_id,
        }))
    });
    tx.expect_reserve_lines().never();
    expect_no_writes(&mut tx);
    let mut queries = MockOrderQueries::new();
    queries
        .expect_get()
        .returning(move |_, _| Ok(Some(first.clone())));
    let placed = service(uow_with(tx), queries)
        .place(&ctx(), new_order(vec![line("A", 1)]), Some(idem("fp")))
        .await
        .unwrap();
    assert!(matches!(&placed, Placement::Replayed(o) if o.id == first_id));
}

#[tokio::test]
async fn a_repeated_idempotency_key_with_another_body_is_refused() {
    let mut tx = MockOrderTransaction::new();
    tx.expect_find_idempotency().returning(|_| {
        Ok(Some(IdempotencyRecord {
            key: "key-1".into(),
            fingerprint: "fp".into(),
            order_id: OrderId::new(),
        }))
    });
    expect_no_writes(&mut tx);
    let err = service(uow_with(tx), MockOrderQueries::new())
        .place(&ctx(), new_order(vec![line("A", 1)]), Some(idem("other")))
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::IdempotencyKeyReused));
}

#[tokio::test]
async fn a_new_idempotency_key_is_stored_with_the_order() {
    let mut tx = tx_with_stock(&[("A", 5)], Default::default());
    expect_writes(&mut tx);
    tx.expect_save_idempotency()
        .withf(|r| r.key == "key-1" && r.fingerprint == "fp")
        .times(1)
        .returning(|_| Ok(()));
    service(uow_with(tx), MockOrderQueries::new())
        .place(&ctx(), new_order(vec![line("A", 1)]), Some(idem("fp")))
        .await
        .unwrap();
}

fn allocated_order(tenant: TenantId) -> Order {
    let mut o = new_order(vec![line("A", 2), line("B", 3)])
        .validate(OrderId::new(), tenant, now())
        .unwrap();
    o.allocate(&[q(2), q(0)], crate::Cutoff::DEFAULT, now())
        .unwrap();
    o.take_events();
    o.take_status_changes();
    o
}

#[tokio::test]
async fn cancelling_releases_what_was_reserved_and_writes_the_event() {
    let ctx = ctx();
    let order = allocated_order(ctx.tenant_id);
    let id = order.id;
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order()
        .returning(move |_| Ok(Some(order.clone())));
    tx.expect_release_all()
        .withf(move |r| r.reference == format!("order:{id}"))
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_update_order()
        .withf(|o, expected| o.status == OrderStatus::Cancelled && *expected == 1 && o.version == 2)
        .times(1)
        .returning(|_, _| Ok(()));
    tx.expect_record_status_changes()
        .withf(|_, changes, _| changes.len() == 1 && changes[0].to == OrderStatus::Cancelled)
        .times(1)
        .returning(|_, _, _| Ok(()));
    tx.expect_append_events()
        .withf(|e| e.len() == 1 && e[0].event_type == "order.cancelled")
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_commit().times(1).returning(|| Ok(()));
    let cancelled = service(uow_with(tx), MockOrderQueries::new())
        .cancel(&ctx, id, None)
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
}

#[tokio::test]
async fn cancelling_an_order_that_is_not_found_changes_nothing() {
    let mut tx = MockOrderTransaction::new();
    tx.expect_lock_order().returning(|_| Ok(None));
    tx.expect_release_all().never();
    tx.expect_commit().never();
    let err = service(uow_with(tx), MockOrderQueries::new())
        .cancel(&ctx(), OrderId::new(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::NotFound(_)));
}
