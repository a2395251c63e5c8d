//! The floor adapter on PostgreSQL and SQLite: put-away never places more than is on hand,
//! bin stock feeds planning with the product's GTIN, a pick list round-trips through its JSON
//! body, a scan takes its units out of the bin once, tasks are claimed once, and nothing of
//! one tenant is visible to another.

use chrono::Utc;
use identity::ports::TenantRepository;
use identity::{ApiKey, NewTenant};
use inventory::NewProduct;
use inventory::service::{InventoryService, SetCountedQuantity};
use kernel::{OrderId, Quantity, RequestContext, Sku, SystemClock, TenantId, WarehouseId};
use sql::{PutAwayFailure, SqlStore};
use testkit::{Backend, TestDb, on_both_databases};
use warehouse::{
    Bin, BinCode, BinStockReader, PickableOrder, PickingService, Scan, ScanOutcome, TaskKind,
};

on_both_databases!(
    put_away_never_places_more_than_is_on_hand_and_bin_stock_feeds_planning,
    a_pick_list_round_trips_and_a_scan_takes_its_units_from_the_bin_once,
);

type Inventory = InventoryService<SqlStore, SqlStore, SqlStore, SqlStore, SystemClock>;

struct World {
    db: TestDb,
    ctx: RequestContext,
    warehouse: WarehouseId,
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

async fn tenant(store: &SqlStore, company: &str) -> RequestContext {
    let tenant = NewTenant {
        company: company.into(),
        email: format!("ops@{}.example", company.to_lowercase()),
    }
    .validate(TenantId::new(), Utc::now())
    .unwrap();
    let (key, _) = ApiKey::generate(tenant.id, "default", Utc::now());
    store.create_with_key(&tenant, &key, None).await.unwrap();
    RequestContext::new(tenant.id, "user:ana")
}

impl World {
    /// A tenant with TEE (GTIN 00000000000017) counted at `on_hand` in MAIN, and bin A-01 there.
    async fn new(backend: Backend, on_hand: i64) -> Self {
        let db = TestDb::new(backend).await;
        let s = db.store.clone();
        let ctx = tenant(&s, "Acme").await;
        let inventory: Inventory =
            InventoryService::new(s.clone(), s.clone(), s.clone(), s.clone(), SystemClock);
        inventory
            .register_product(
                &ctx,
                NewProduct {
                    sku: "TEE".into(),
                    name: "Tee".into(),
                    barcode: Some("00000000000017".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        inventory
            .set_counted_quantity(
                &ctx,
                SetCountedQuantity {
                    warehouse: None,
                    sku: sku("TEE"),
                    on_hand: q(on_hand),
                    reason: "initial count".into(),
                    expected_version: None,
                },
            )
            .await
            .unwrap();
        let (warehouse, code) = s
            .warehouse_by_code(ctx.tenant_id, " main ")
            .await
            .unwrap()
            .expect("the default warehouse");
        assert_eq!(code, "MAIN");
        let bin = Bin::new(BinCode::parse("A-01").unwrap(), warehouse, 1);
        assert!(s.create_bin(ctx.tenant_id, &bin, Utc::now()).await.unwrap());
        Self { db, ctx, warehouse }
    }

    fn store(&self) -> &SqlStore {
        &self.db.store
    }

    async fn put_away(&self, n: i64) -> Result<i64, PutAwayFailure> {
        self.store()
            .put_away(
                self.ctx.tenant_id,
                self.warehouse,
                &BinCode::parse("a-01").unwrap(),
                &sku("TEE"),
                q(n),
                true,
                Utc::now(),
            )
            .await
    }

    async fn in_bin(&self) -> i64 {
        self.store()
            .bin_quantity(
                self.ctx.tenant_id,
                self.warehouse,
                &BinCode::parse("A-01").unwrap(),
                &sku("TEE"),
            )
            .await
            .unwrap()
    }
}

async fn put_away_never_places_more_than_is_on_hand_and_bin_stock_feeds_planning(backend: Backend) {
    let w = World::new(backend, 4).await;
    let dup = Bin::new(BinCode::parse("A-01").unwrap(), w.warehouse, 9);
    assert!(
        !w.store()
            .create_bin(w.ctx.tenant_id, &dup, Utc::now())
            .await
            .unwrap()
    );
    assert_eq!(w.put_away(3).await.unwrap(), 3);
    assert!(matches!(
        w.put_away(2).await,
        Err(PutAwayFailure::ExceedsOnHand(_))
    ));
    assert_eq!(w.put_away(1).await.unwrap(), 4);

    let stock = w
        .store()
        .bin_stock(w.ctx.tenant_id, w.warehouse, &[sku("TEE"), sku("GHOST")])
        .await
        .unwrap();
    assert_eq!(stock.len(), 1);
    assert_eq!(stock[0].bin.code.as_str(), "A-01");
    assert_eq!(stock[0].barcode.as_deref(), Some("00000000000017"));
    assert_eq!(stock[0].on_hand, q(4));
    assert!(stock[0].preferred);

    // Another tenant sees none of it.
    let other = tenant(w.store(), "Other").await;
    let theirs = w
        .store()
        .bin_stock(other.tenant_id, w.warehouse, &[sku("TEE")])
        .await
        .unwrap();
    assert!(theirs.is_empty());
    assert!(
        w.store()
            .bins(other.tenant_id, w.warehouse)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_pick_list_round_trips_and_a_scan_takes_its_units_from_the_bin_once(backend: Backend) {
    let w = World::new(backend, 5).await;
    w.put_away(5).await.unwrap();
    let s = w.store().clone();
    let picking = PickingService::new(s.clone(), s.clone(), SystemClock);
    let order = PickableOrder {
        order_id: OrderId::new(),
        ship_by: Utc::now(),
        carrier: None,
        lines: vec![(1, sku("TEE"), q(3))],
    };
    let planned = picking
        .plan(&w.ctx, w.warehouse, &[vec![order]], 10)
        .await
        .unwrap();
    let list = &planned[0].list;
    let stored = s
        .pick_list(w.ctx.tenant_id, list.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.lines(), list.lines());
    assert_eq!(stored.orders(), list.orders());
    assert_eq!(
        (stored.status(), stored.version()),
        (list.status(), list.version())
    );
    // PostgreSQL keeps microseconds.
    let drift = (stored.created_at() - list.created_at())
        .num_microseconds()
        .unwrap();
    assert!(drift.abs() <= 1, "{drift}");

    let scan = Scan {
        scan_id: uuid::Uuid::now_v7(),
        bin: "A-01".into(),
        barcode: "00000000000017".into(),
        quantity: 2,
    };
    let first = picking
        .confirm_scan(&w.ctx, list.id(), scan.clone())
        .await
        .unwrap();
    let again = picking.confirm_scan(&w.ctx, list.id(), scan).await.unwrap();
    assert_eq!(first, again);
    assert!(matches!(first, ScanOutcome::Next { .. }));
    assert_eq!(w.in_bin().await, 3);
    let stored = s
        .pick_list(w.ctx.tenant_id, list.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.lines()[0].picked, q(2));
    assert_eq!(stored.scans().len(), 1);

    // The pick task is claimed once, by whoever asks first.
    let claimed = s
        .claim_task(w.ctx.tenant_id, "user:ana", Some(TaskKind::Pick))
        .await
        .unwrap()
        .expect("the pick task");
    assert_eq!(claimed.reference, format!("picklist:{}", list.id()));
    assert!(
        s.claim_task(w.ctx.tenant_id, "user:bob", None)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.tasks_of(w.ctx.tenant_id, "user:ana").await.unwrap().len(),
        1
    );

    // A second plan does not count on units the first list still has to pick: 3 in the bin,
    // 1 of them still planned, so 2 are free.
    let second = PickableOrder {
        order_id: OrderId::new(),
        ship_by: Utc::now(),
        carrier: None,
        lines: vec![(1, sku("TEE"), q(3))],
    };
    let again = picking
        .plan(&w.ctx, w.warehouse, &[vec![second]], 10)
        .await
        .unwrap();
    assert_eq!(again[0].list.total_units(), 2);
    assert_eq!(again[0].list.unallocated()[0].missing, q(1));

    let other = tenant(&s, "Other").await;
    assert!(
        s.pick_list(other.tenant_id, list.id())
            .await
            .unwrap()
            .is_none()
    );
}
