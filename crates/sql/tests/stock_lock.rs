//! The kit look-up that locks ahead: with no kit among the SKUs it locks their rows and the
//! lock that follows hands them over; with a kit it locks nothing, so the lock that follows
//! takes every row in (SKU, warehouse) order itself.

mod support;

use inventory::NewProduct;
use inventory::ports::InventoryUnitOfWork;
use kernel::Sku;
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use support::World;
use testkit::{Backend, on_both_databases};

on_both_databases!(
    plain_skus_are_locked_by_the_kit_look_up_and_handed_to_the_lock,
    a_kit_among_the_skus_locks_nothing_until_the_lock,
    a_lock_for_other_skus_than_looked_up_locks_them_itself,
);

fn skus(names: &[&str]) -> Vec<Sku> {
    names.iter().map(|n| Sku::parse(n).unwrap()).collect()
}

/// Whether another transaction finds `sku`'s stock row locked (PostgreSQL only: `None` on
/// SQLite, whose transactions lock the whole database).
async fn locked_elsewhere(w: &World, sku: &str) -> Option<bool> {
    let url = w.db.superuser_url()?;
    let db = Database::connect(url).await.unwrap();
    let tx = db.begin().await.unwrap();
    let probe = tx
        .execute_unprepared(&format!(
            "SELECT 1 FROM stock_levels WHERE sku = '{sku}' FOR UPDATE NOWAIT"
        ))
        .await;
    tx.rollback().await.unwrap();
    db.close().await.unwrap();
    Some(probe.is_err())
}

async fn cups_saucers_and_a_pair(backend: Backend) -> (World, kernel::RequestContext) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "CUP", 30).await;
    w.product_with_stock(&ctx, "SAUCER", 10).await;
    w.inventory
        .register_product(
            &ctx,
            NewProduct {
                sku: "PAIR".into(),
                name: "Pair of cups".into(),
                components: vec![("CUP".into(), 2)],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (w, ctx)
}

async fn plain_skus_are_locked_by_the_kit_look_up_and_handed_to_the_lock(backend: Backend) {
    let (w, ctx) = cups_saucers_and_a_pair(backend).await;
    let asked = skus(&["CUP", "SAUCER"]);
    let mut tx = InventoryUnitOfWork::begin(w.store(), ctx.tenant_id)
        .await
        .unwrap();
    assert!(tx.kit_components(&asked).await.unwrap().is_empty());
    if let Some(locked) = locked_elsewhere(&w, "SAUCER").await {
        assert!(locked, "the look-up should have locked SAUCER's row");
    }
    let rows = tx.lock_stock(&asked).await.unwrap();
    let got: Vec<(&str, i64)> = rows.iter().map(|r| (r.sku.as_str(), r.on_hand)).collect();
    assert_eq!(got, [("CUP", 30), ("SAUCER", 10)]);
    assert_eq!(
        tx.allocation_rules().await.unwrap(),
        inventory::allocation::AllocationRules::default()
    );
}

async fn a_kit_among_the_skus_locks_nothing_until_the_lock(backend: Backend) {
    let (w, ctx) = cups_saucers_and_a_pair(backend).await;
    let mut tx = InventoryUnitOfWork::begin(w.store(), ctx.tenant_id)
        .await
        .unwrap();
    let kits = tx.kit_components(&skus(&["PAIR", "SAUCER"])).await.unwrap();
    let pair = &kits[&Sku::parse("PAIR").unwrap()];
    assert_eq!(pair.len(), 1);
    assert_eq!(
        (pair[0].sku.as_str(), pair[0].quantity.as_i64()),
        ("CUP", 2)
    );
    if let Some(locked) = locked_elsewhere(&w, "SAUCER").await {
        assert!(
            !locked,
            "a kit look-up with a kit must not lock SAUCER ahead of CUP"
        );
    }
    let rows = tx.lock_stock(&skus(&["CUP", "SAUCER"])).await.unwrap();
    let got: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    assert_eq!(got, ["CUP", "SAUCER"]);
    if let Some(locked) = locked_elsewhere(&w, "CUP").await {
        assert!(locked, "the lock should hold CUP's row");
    }
}

async fn a_lock_for_other_skus_than_looked_up_locks_them_itself(backend: Backend) {
    let (w, ctx) = cups_saucers_and_a_pair(backend).await;
    let mut tx = InventoryUnitOfWork::begin(w.store(), ctx.tenant_id)
        .await
        .unwrap();
    assert!(tx.kit_components(&skus(&["CUP"])).await.unwrap().is_empty());
    let rows = tx.lock_stock(&skus(&["CUP", "SAUCER"])).await.unwrap();
    let got: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    assert_eq!(got, ["CUP", "SAUCER"]);
}
