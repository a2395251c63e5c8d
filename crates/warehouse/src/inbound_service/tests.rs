use super::*;
use crate::inbound_ports::{MockInboundTransaction, MockInboundUnitOfWork};
use kernel::{FixedClock, TenantId};

fn now() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn ctx() -> RequestContext {
    RequestContext::new(TenantId::new(), "user:ana")
}

fn main() -> FloorWarehouse {
    FloorWarehouse {
        id: WarehouseId::from_uuid(Uuid::from_u128(7)),
        code: "MAIN".into(),
    }
}

fn service(tx: MockInboundTransaction) -> InboundService<MockInboundUnitOfWork, FixedClock> {
    let mut uow = MockInboundUnitOfWork::new();
    let mut tx = Some(tx);
    uow.expect_begin()
        .times(1)
        .returning(move |_| Ok(Box::new(tx.take().expect("begun once"))));
    InboundService::new(uow, FixedClock::at(now()))
}

fn asn() -> InboundShipment {
    let mut s = InboundShipment::expect(
        "PO-1",
        main().id,
        vec![(sku("TEE"), None, q(10)), (sku("MUG"), None, q(5))],
        now(),
    )
    .unwrap();
    s.receive(Uuid::from_u128(1), "TEE", 12, false).unwrap();
    s.receive(Uuid::from_u128(2), "MUG", 3, false).unwrap();
    s.receive(Uuid::from_u128(3), "MUG", 1, true).unwrap();
    s
}

fn expect_warehouse(tx: &mut MockInboundTransaction) {
    tx.expect_warehouse_by_id().returning(|_| Ok(Some(main())));
    tx.expect_warehouse().returning(|_| Ok(Some(main())));
}

#[tokio::test]
async fn closing_books_good_units_opens_put_away_tasks_and_raises_the_event_in_one_commit() {
    let mut tx = MockInboundTransaction::new();
    let stored = asn();
    tx.expect_lock_inbound()
        .returning(move |_| Ok(Some(stored.clone())));
    expect_warehouse(&mut tx);
    tx.expect_preferred_bins()
        .returning(|_, _| Ok(vec![(sku("TEE"), BinCode::parse("A-01").unwrap())]));
    tx.expect_bin()
        .returning(|_, _| Ok(Some(Uuid::from_u128(9))));
    tx.expect_receive_stock()
        .withf(|_, _, lines, reference| {
            lines == [(sku("MUG"), q(3)), (sku("TEE"), q(12))] && reference.starts_with("inbound:")
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    tx.expect_insert_task()
        .withf(|t| t.kind == TaskKind::PutAway)
        .times(2)
        .returning(|_| Ok(()));
    tx.expect_insert_put_away().times(2).returning(|_| Ok(()));
    tx.expect_save_inbound().times(1).returning(|_| Ok(()));
    tx.expect_append_events()
        .withf(|e| e[0].event_type == "inbound.closed")
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_commit().times(1).returning(|| Ok(()));
    let closed = service(tx)
        .close(&ctx(), Uuid::from_u128(1), Some("RECV".into()))
        .await
        .unwrap();
    let bins: Vec<(&str, &str)> = closed
        .view
        .put_away
        .iter()
        .map(|p| (p.sku.as_str(), p.suggested_bin.as_str()))
        .collect();
    assert_eq!(bins, [("TEE", "A-01"), ("MUG", "RECV")]);
    assert_eq!(closed.view.discrepancies.len(), 2);
}

#[tokio::test]
async fn closing_without_a_default_bin_when_a_sku_has_no_home_changes_nothing() {
    let mut tx = MockInboundTransaction::new();
    let stored = asn();
    tx.expect_lock_inbound()
        .returning(move |_| Ok(Some(stored.clone())));
    expect_warehouse(&mut tx);
    tx.expect_preferred_bins().returning(|_, _| Ok(vec![]));
    tx.expect_receive_stock().never();
    tx.expect_commit().never();
    let err = service(tx)
        .close(&ctx(), Uuid::from_u128(1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, InboundError::NeedDefaultBin(s) if s.len() == 2));
}

#[tokio::test]
async fn a_replayed_receive_scan_saves_nothing() {
    let mut tx = MockInboundTransaction::new();
    let stored = asn();
    tx.expect_lock_inbound()
        .returning(move |_| Ok(Some(stored.clone())));
    expect_warehouse(&mut tx);
    tx.expect_save_inbound().never();
    tx.expect_commit().returning(|| Ok(()));
    let scan = ReceiveScan {
        scan_id: Uuid::from_u128(1),
        barcode: "TEE".into(),
        quantity: 12,
        damaged: false,
    };
    let (progress, _) = service(tx)
        .receive(&ctx(), Uuid::from_u128(1), scan)
        .await
        .unwrap();
    assert_eq!(progress.received, q(12));
}

fn open_count() -> CycleCount {
    let mut c = CycleCount::open(
        main().id,
        BinCode::parse("A-01").unwrap(),
        vec![(sku("TEE"), q(10)), (sku("MUG"), q(4))],
        now(),
    );
    c.record(sku("TEE"), q(8)).unwrap();
    c.record(sku("MUG"), q(4)).unwrap();
    c
}

#[tokio::test]
async fn submitting_a_count_adjusts_stock_and_the_bin_for_each_variance_by_the_counter() {
    let mut tx = MockInboundTransaction::new();
    let stored = open_count();
    tx.expect_lock_count()
        .returning(move |_| Ok(Some(stored.clone())));
    expect_warehouse(&mut tx);
    tx.expect_bin()
        .returning(|_, _| Ok(Some(Uuid::from_u128(9))));
    tx.expect_count_variance()
        .withf(|ctx, _, s, delta, reason, _| {
            ctx.actor == "user:ana"
                && s.as_str() == "TEE"
                && *delta == -2
                && reason == "cycle count of bin A-01"
        })
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(()));
    tx.expect_set_bin_stock()
        .withf(|_, s, n| s.as_str() == "TEE" && *n == q(8))
        .times(1)
        .returning(|_, _, _| Ok(()));
    tx.expect_lock_task_by_reference().returning(|_| Ok(None));
    tx.expect_save_count().times(1).returning(|_| Ok(()));
    tx.expect_append_events()
        .withf(|e| e[0].event_type == "count.variance")
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_commit().times(1).returning(|| Ok(()));
    let (count, lines) = service(tx)
        .submit_count(&ctx(), Uuid::from_u128(1))
        .await
        .unwrap();
    assert_eq!(count.counter(), Some("user:ana"));
    assert_eq!(lines.len(), 2);
}

#[tokio::test]
async fn a_count_refused_by_the_stock_rules_commits_nothing() {
    let mut tx = MockInboundTransaction::new();
    let stored = open_count();
    tx.expect_lock_count()
        .returning(move |_| Ok(Some(stored.clone())));
    expect_warehouse(&mut tx);
    tx.expect_bin()
        .returning(|_, _| Ok(Some(Uuid::from_u128(9))));
    tx.expect_count_variance().returning(|_, _, _, _, _, _| {
        Err(StockEffectError::Refused {
            code: "below-reserved",
            detail: "TEE: 9 reserved".into(),
        })
    });
    tx.expect_commit().never();
    let err = service(tx)
        .submit_count(&ctx(), Uuid::from_u128(1))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        InboundError::Stock {
            code: "below-reserved",
            ..
        }
    ));
}

#[tokio::test]
async fn a_failed_inspection_quarantines_the_units_and_raises_qc_failed() {
    let checklist = QcChecklist::new(
        "Inbound",
        QcStage::Receipt,
        None,
        vec!["Sealed".into(), "Dry".into()],
    )
    .unwrap();
    let mut tx = MockInboundTransaction::new();
    let stored = checklist.clone();
    tx.expect_checklist()
        .returning(move |_| Ok(Some(stored.clone())));
    expect_warehouse(&mut tx);
    tx.expect_products()
        .returning(|s| Ok(s.iter().map(|s| (s.clone(), None)).collect()));
    tx.expect_insert_inspection().times(1).returning(|_| Ok(()));
    tx.expect_quarantine_stock()
        .withf(|_, _, s, n, owner| {
            s.as_str() == "TEE" && *n == q(3) && owner.starts_with("quarantine:")
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    tx.expect_insert_quarantine().times(1).returning(|_| Ok(()));
    tx.expect_append_events()
        .withf(|e| e[0].event_type == "qc.failed")
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_commit().times(1).returning(|| Ok(()));
    let outcome = service(tx)
        .inspect(
            &ctx(),
            InspectCmd {
                checklist: checklist.id,
                sku: "TEE".into(),
                warehouse: "MAIN".into(),
                quantity: 3,
                answers: vec![true, false],
                reference: None,
            },
            None,
        )
        .await
        .unwrap();
    let q = outcome.quarantine.unwrap();
    assert_eq!(q.quarantine.reason, "failed: Dry");
}

#[tokio::test]
async fn a_passed_inspection_moves_no_stock() {
    let checklist =
        QcChecklist::new("Inbound", QcStage::Receipt, None, vec!["Sealed".into()]).unwrap();
    let mut tx = MockInboundTransaction::new();
    let stored = checklist.clone();
    tx.expect_checklist()
        .returning(move |_| Ok(Some(stored.clone())));
    expect_warehouse(&mut tx);
    tx.expect_products()
        .returning(|s| Ok(s.iter().map(|s| (s.clone(), None)).collect()));
    tx.expect_insert_inspection().times(1).returning(|_| Ok(()));
    tx.expect_quarantine_stock().never();
    tx.expect_commit().times(1).returning(|| Ok(()));
    let outcome = service(tx)
        .inspect(
            &ctx(),
            InspectCmd {
                checklist: checklist.id,
                sku: "TEE".into(),
                warehouse: "MAIN".into(),
                quantity: 3,
                answers: vec![true],
                reference: None,
            },
            None,
        )
        .await
        .unwrap();
    assert!(outcome.quarantine.is_none());
}

fn key(fingerprint: &str) -> crate::inbound_ports::IdempotencyKey {
    crate::inbound_ports::IdempotencyKey {
        key: "k-1".into(),
        fingerprint: fingerprint.into(),
    }
}

fn new_asn() -> NewInbound {
    NewInbound {
        reference: "PO-1".into(),
        warehouse: "MAIN".into(),
        lines: vec![("TEE".into(), 10)],
    }
}

fn expect_earlier_claim(tx: &mut MockInboundTransaction, fingerprint: &'static str) {
    expect_warehouse(tx);
    tx.expect_products()
        .returning(|s| Ok(s.iter().map(|s| (s.clone(), None)).collect()));
    tx.expect_claim_idempotency()
        .times(1)
        .returning(move |_, _, _| {
            Ok(Some(crate::inbound_ports::IdempotencyClaim {
                fingerprint: fingerprint.into(),
                resource_type: "inbound_shipment".into(),
                resource_id: Uuid::from_u128(42),
            }))
        });
    tx.expect_insert_inbound().never();
    tx.expect_commit().never();
}

#[tokio::test]
async fn a_repeated_idempotency_key_answers_with_the_first_asn_and_writes_nothing() {
    let mut tx = MockInboundTransaction::new();
    expect_earlier_claim(&mut tx, "same");
    let earlier = asn();
    tx.expect_lock_inbound()
        .withf(|id| *id == Uuid::from_u128(42))
        .returning(move |_| Ok(Some(earlier.clone())));
    let view = service(tx)
        .create_inbound(&ctx(), new_asn(), Some(&key("same")))
        .await
        .unwrap();
    assert_eq!(view.shipment.reference(), "PO-1");
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_body_is_refused() {
    let mut tx = MockInboundTransaction::new();
    expect_earlier_claim(&mut tx, "other");
    let err = service(tx)
        .create_inbound(&ctx(), new_asn(), Some(&key("same")))
        .await
        .unwrap_err();
    assert!(matches!(err, InboundError::IdempotencyKeyReused));
}
