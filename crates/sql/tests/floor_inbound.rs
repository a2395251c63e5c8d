//! The inbound unit of work against real databases: a floor transaction and the stock it
//! moves commit together or not at all, and the ledger always explains the levels.

use kernel::{PageRequest, Quantity, Sku, SystemClock};
use testkit::{Backend, on_both_databases};
use uuid::Uuid;
use warehouse::{InboundService, InboundUnitOfWork, InspectCmd, NewInbound, ReceiveScan};

on_both_databases!(
    receipts_booked_in_a_dropped_transaction_leave_no_trace_and_a_close_commits_them_with_the_asn,
    a_refused_count_changes_neither_stock_nor_bin_and_quarantine_moves_only_available,
);

mod support;
use support::World;

fn scan(n: u128, code: &str, quantity: i64) -> ReceiveScan {
    ReceiveScan {
        scan_id: Uuid::from_u128(n),
        barcode: code.into(),
        quantity,
        damaged: false,
    }
}

async fn receipts_booked_in_a_dropped_transaction_leave_no_trace_and_a_close_commits_them_with_the_asn(
    backend: Backend,
) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "TEE", 0).await;
    w.store()
        .seed_bin(ctx.tenant_id, "MAIN", "RECV", 1, &[])
        .await
        .unwrap();
    let floor = InboundService::new(w.store().clone(), SystemClock);
    let asn = floor
        .create_inbound(
            &ctx,
            NewInbound {
                reference: "PO-1".into(),
                warehouse: "MAIN".into(),
                lines: vec![("TEE".into(), 4)],
            },
            None,
        )
        .await
        .unwrap();
    let id = asn.shipment.id();
    floor.receive(&ctx, id, scan(1, "TEE", 4)).await.unwrap();

    // Receipts written, then the transaction is dropped without commit: nothing stays.
    {
        let mut tx = InboundUnitOfWork::begin(w.store(), ctx.tenant_id)
            .await
            .unwrap();
        let shipment = tx.lock_inbound(id).await.unwrap().unwrap();
        tx.receive_stock(
            &ctx,
            shipment.warehouse(),
            &[(Sku::parse("TEE").unwrap(), Quantity::new(4).unwrap())],
            "inbound:test",
        )
        .await
        .unwrap();
    }
    assert_eq!(w.level(&ctx, "TEE").await, (0, 0));

    let closed = floor.close(&ctx, id, Some("RECV".into())).await.unwrap();
    assert_eq!(closed.closed.receipts.len(), 1);
    assert_eq!(w.level(&ctx, "TEE").await, (4, 0));
    w.assert_ledger_matches(&ctx, "TEE").await;
    let listed = floor
        .list_inbound(
            &ctx,
            Some(warehouse::InboundStatus::Closed),
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].put_away.len(), 1);
    // Closing twice books nothing more.
    assert!(floor.close(&ctx, id, Some("RECV".into())).await.is_err());
    assert_eq!(w.level(&ctx, "TEE").await, (4, 0));
}

async fn a_refused_count_changes_neither_stock_nor_bin_and_quarantine_moves_only_available(
    backend: Backend,
) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "MUG", 6).await;
    w.product_with_stock(&ctx, "TEE", 10).await;
    w.store()
        .seed_bin(
            ctx.tenant_id,
            "MAIN",
            "A-01",
            1,
            &[("MUG", 6, true), ("TEE", 10, true)],
        )
        .await
        .unwrap();
    let floor = InboundService::new(w.store().clone(), SystemClock);
    let checklist = floor
        .create_checklist(&ctx, "In", "receipt", None, vec!["Sealed".into()], None)
        .await
        .unwrap();
    // 8 TEE quarantined: on hand stays, only available drops.
    let failed = floor
        .inspect(
            &ctx,
            InspectCmd {
                checklist: checklist.id,
                sku: "TEE".into(),
                warehouse: "MAIN".into(),
                quantity: 8,
                answers: vec![false],
                reference: None,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(w.level(&ctx, "TEE").await, (10, 8));

    // MUG counts up (first, by SKU order), TEE down below the quarantined 8: refused whole.
    let count = floor.open_count(&ctx, "MAIN", "A-01", None).await.unwrap();
    floor
        .record_count(&ctx, count.id(), "MUG", 7)
        .await
        .unwrap();
    floor
        .record_count(&ctx, count.id(), "TEE", 5)
        .await
        .unwrap();
    let err = floor.submit_count(&ctx, count.id()).await.unwrap_err();
    assert!(
        matches!(
            err,
            warehouse::InboundError::Stock {
                code: "below-reserved",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(w.level(&ctx, "MUG").await, (6, 0));
    assert_eq!(w.level(&ctx, "TEE").await, (10, 8));
    let again = floor.open_count(&ctx, "MAIN", "A-01", None).await.unwrap();
    assert_eq!(again.expected().len(), 2);
    assert_eq!(
        again.expected()[0].1,
        Quantity::new(6).unwrap(),
        "bin stock untouched"
    );
    assert_eq!(
        floor.count(&ctx, count.id()).await.unwrap().status(),
        warehouse::CountStatus::Open
    );

    let quarantine = failed.quarantine.unwrap().quarantine.id;
    floor.dispose_quarantine(&ctx, quarantine).await.unwrap();
    assert_eq!(w.level(&ctx, "TEE").await, (2, 0));
    floor.submit_count(&ctx, again.id()).await.unwrap();
    // Nothing counted in the second count: both lines count as zero found.
    assert_eq!(w.level(&ctx, "MUG").await, (0, 0));
    assert_eq!(w.level(&ctx, "TEE").await, (0, 0));
    w.assert_ledger_matches(&ctx, "TEE").await;
    w.assert_ledger_matches(&ctx, "MUG").await;
}
