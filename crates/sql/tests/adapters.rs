//! The SQL adapter against real databases: every test runs on PostgreSQL and on SQLite, each
//! in a database of its own.

use chrono::Utc;
use identity::ports::TenantRepository;
use identity::{ApiKey, NewTenant};
use inventory::ports::{ProductRepository, StockQueries};
use inventory::service::{InventoryService, SetCountedQuantity};
use inventory::{InventoryError, MovementKind, NewProduct};
use kernel::{PageRequest, Quantity, RequestContext, Sku, SystemClock, TenantId};
use order::ports::{OrderFilter, OrderQueries};
use order::service::{IdempotencyRequest, OrderService, Placement};
use order::{Address, NewOrder, NewOrderLine, OrderError, OrderStatus};
use sql::SqlStore;
use std::sync::Arc;
use testkit::{Backend, TestDb, on_both_databases};

on_both_databases!(
    a_duplicate_sku_is_a_business_error_and_products_page_by_sku,
    one_tenant_never_sees_another_tenants_products_or_orders,
    a_count_adjusts_on_hand_through_the_ledger,
    concurrent_orders_for_the_last_units_never_oversell,
    a_short_order_without_backorders_writes_nothing_at_all,
    cancelling_releases_reservations_and_records_the_ledger,
    the_same_external_order_sent_concurrently_creates_one_order,
    an_idempotency_key_replays_and_refuses_a_different_body,
    orders_page_newest_first_and_filter_by_status,
);

type Inventory = InventoryService<SqlStore, SqlStore, SqlStore, SystemClock>;
type Orders = OrderService<SqlStore, SqlStore, SystemClock>;

struct World {
    db: TestDb,
    inventory: Inventory,
    orders: Orders,
}

impl World {
    async fn new(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let s = db.store.clone();
        Self {
            inventory: InventoryService::new(s.clone(), s.clone(), s.clone(), SystemClock),
            orders: OrderService::new(s.clone(), s, SystemClock),
            db,
        }
    }

    fn store(&self) -> &SqlStore {
        &self.db.store
    }

    async fn tenant(&self) -> RequestContext {
        let tenant = NewTenant {
            company: "Acme".into(),
            email: "ops@acme.example".into(),
        }
        .validate(TenantId::new(), Utc::now())
        .unwrap();
        let (key, _) = ApiKey::generate(tenant.id, "default", Utc::now());
        self.store()
            .create_with_key(&tenant, &key, None)
            .await
            .unwrap();
        RequestContext::new(tenant.id, format!("api_key:{}", key.id))
    }

    async fn product_with_stock(&self, ctx: &RequestContext, sku: &str, on_hand: i64) {
        self.inventory
            .register_product(
                ctx,
                NewProduct {
                    sku: sku.into(),
                    name: format!("Product {sku}"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if on_hand > 0 {
            self.inventory
                .set_counted_quantity(ctx, count(sku, on_hand))
                .await
                .unwrap();
        }
    }

    async fn level(&self, ctx: &RequestContext, sku: &str) -> (u32, u32) {
        let l = self
            .store()
            .level(ctx.tenant_id, &Sku::parse(sku).unwrap())
            .await
            .unwrap()
            .unwrap();
        (l.on_hand.get(), l.reserved.get())
    }

    /// Stock levels must equal the sum of their ledger: the projection never drifts.
    async fn assert_ledger_matches(&self, ctx: &RequestContext, sku: &str) {
        let moves = self
            .store()
            .movements(ctx.tenant_id, &Sku::parse(sku).unwrap())
            .await
            .unwrap();
        let on_hand: i64 = moves.iter().map(|m| m.on_hand_delta).sum();
        let reserved: i64 = moves.iter().map(|m| m.reserved_delta).sum();
        let (level_on_hand, level_reserved) = self.level(ctx, sku).await;
        assert_eq!(
            (on_hand, reserved),
            (i64::from(level_on_hand), i64::from(level_reserved)),
            "ledger of {sku} disagrees with its stock level"
        );
    }
}

fn count(sku: &str, on_hand: i64) -> SetCountedQuantity {
    SetCountedQuantity {
        sku: Sku::parse(sku).unwrap(),
        on_hand: Quantity::new(on_hand).unwrap(),
        reason: "initial count".into(),
        expected_version: None,
    }
}

fn order_of(lines: &[(&str, i64)]) -> NewOrder {
    NewOrder {
        channel: None,
        external_id: None,
        allow_backorder: true,
        ship_to: Address {
            name: "Grace Hopper".into(),
            line1: "1 Navy Way".into(),
            city: "Arlington".into(),
            country: "US".into(),
            ..Default::default()
        },
        lines: lines
            .iter()
            .map(|(sku, quantity)| NewOrderLine {
                sku: sku.to_string(),
                quantity: *quantity,
                unit_price_minor: 999,
                currency: "USD".into(),
            })
            .collect(),
    }
}

async fn a_duplicate_sku_is_a_business_error_and_products_page_by_sku(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    for sku in ["C", "A", "B"] {
        w.product_with_stock(&ctx, sku, 0).await;
    }
    let dup = w
        .inventory
        .register_product(
            &ctx,
            NewProduct {
                sku: "A".into(),
                name: "again".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, InventoryError::DuplicateSku(_)));

    let first = ProductRepository::list(w.store(), ctx.tenant_id, PageRequest::new(None, Some(2)))
        .await
        .unwrap();
    let skus: Vec<_> = first.items.iter().map(|p| p.sku.to_string()).collect();
    assert_eq!(skus, vec!["A", "B"]);
    let second = ProductRepository::list(
        w.store(),
        ctx.tenant_id,
        PageRequest::new(first.next_cursor, Some(2)),
    )
    .await
    .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].sku.as_str(), "C");
    assert_eq!(second.next_cursor, None);
}

async fn one_tenant_never_sees_another_tenants_products_or_orders(backend: Backend) {
    let w = World::new(backend).await;
    let a = w.tenant().await;
    let b = w.tenant().await;
    w.product_with_stock(&a, "SHARED-NAME", 5).await;
    let placed = w
        .orders
        .place(&a, order_of(&[("SHARED-NAME", 1)]), None)
        .await
        .unwrap();
    let sku = Sku::parse("SHARED-NAME").unwrap();

    assert!(
        ProductRepository::get(w.store(), b.tenant_id, &sku)
            .await
            .unwrap()
            .is_none()
    );
    assert!(w.store().level(b.tenant_id, &sku).await.unwrap().is_none());
    assert!(matches!(
        w.orders.get(&b, placed.order().id).await,
        Err(OrderError::NotFound(_))
    ));
    assert!(matches!(
        w.orders.cancel(&b, placed.order().id, None).await,
        Err(OrderError::NotFound(_))
    ));
    // B ordering A's SKU finds no such product in B's catalogue.
    assert!(matches!(
        w.orders
            .place(&b, order_of(&[("SHARED-NAME", 1)]), None)
            .await,
        Err(OrderError::UnknownSkus(_))
    ));
    assert_eq!(w.level(&a, "SHARED-NAME").await, (5, 1));
}

async fn a_count_adjusts_on_hand_through_the_ledger(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "MUG", 10).await;
    let level = w
        .inventory
        .set_counted_quantity(&ctx, count("MUG", 7))
        .await
        .unwrap();
    assert_eq!(level.on_hand.get(), 7);
    let moves = w
        .store()
        .movements(ctx.tenant_id, &Sku::parse("MUG").unwrap())
        .await
        .unwrap();
    let deltas: Vec<_> = moves.iter().map(|m| (m.kind, m.on_hand_delta)).collect();
    assert_eq!(
        deltas,
        vec![
            (MovementKind::Adjustment, 10),
            (MovementKind::Adjustment, -3)
        ]
    );
    let stale = w
        .inventory
        .set_counted_quantity(
            &ctx,
            SetCountedQuantity {
                expected_version: Some(1),
                ..count("MUG", 1)
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, InventoryError::VersionMismatch { .. }));
    assert_eq!(w.level(&ctx, "MUG").await, (7, 0));
    let events = w.store().events_of(ctx.tenant_id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event.event_type == "inventory.changed")
            .count(),
        2
    );
}

async fn concurrent_orders_for_the_last_units_never_oversell(backend: Backend) {
    let w = Arc::new(World::new(backend).await);
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "LAST", 20).await;
    w.product_with_stock(&ctx, "OTHER", 1_000).await;

    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let (w, ctx) = (w.clone(), ctx.clone());
            // Mixed line orders exercise the SKU-ordered locking (no deadlock either way round).
            let lines: &[(&str, i64)] = if i % 2 == 0 {
                &[("LAST", 1), ("OTHER", 1)]
            } else {
                &[("OTHER", 1), ("LAST", 1)]
            };
            tokio::spawn(async move { w.orders.place(&ctx, order_of(lines), None).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in futures::future::join_all(tasks).await {
        statuses.push(t.unwrap().unwrap().order().status);
    }
    let allocated = statuses
        .iter()
        .filter(|s| **s == OrderStatus::Allocated)
        .count();
    let partial = statuses
        .iter()
        .filter(|s| **s == OrderStatus::PartiallyAllocated)
        .count();
    assert_eq!((allocated, partial), (20, 40));
    assert_eq!(w.level(&ctx, "LAST").await, (20, 20));
    assert_eq!(w.level(&ctx, "OTHER").await, (1_000, 60));
    w.assert_ledger_matches(&ctx, "LAST").await;
    w.assert_ledger_matches(&ctx, "OTHER").await;
    let created = w
        .store()
        .events_of(ctx.tenant_id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event.event_type == "order.created")
        .count();
    assert_eq!(created, 60, "every order has exactly one outbox event");
}

async fn a_short_order_without_backorders_writes_nothing_at_all(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 5).await;
    w.product_with_stock(&ctx, "B", 1).await;
    let events_before = w.store().events_of(ctx.tenant_id).await.unwrap().len();
    let err = w
        .orders
        .place(
            &ctx,
            NewOrder {
                allow_backorder: false,
                ..order_of(&[("A", 2), ("B", 2)])
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OrderError::InsufficientStock(_)));
    // A's reservation happened inside the transaction and was rolled back with it.
    assert_eq!(w.level(&ctx, "A").await, (5, 0));
    assert_eq!(w.level(&ctx, "B").await, (1, 0));
    w.assert_ledger_matches(&ctx, "A").await;
    let page = OrderQueries::list(
        w.store(),
        ctx.tenant_id,
        &OrderFilter::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(
        w.store().events_of(ctx.tenant_id).await.unwrap().len(),
        events_before
    );
}

async fn cancelling_releases_reservations_and_records_the_ledger(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 3).await;
    let placed = w
        .orders
        .place(&ctx, order_of(&[("A", 2)]), None)
        .await
        .unwrap();
    assert_eq!(w.level(&ctx, "A").await, (3, 2));
    let cancelled = w
        .orders
        .cancel(&ctx, placed.order().id, Some("changed mind".into()))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(w.level(&ctx, "A").await, (3, 0));
    let stored = w.orders.get(&ctx, placed.order().id).await.unwrap();
    assert_eq!(stored.status, OrderStatus::Cancelled);
    assert_eq!(stored.version, 2);
    assert!(stored.lines[0].allocated.is_zero());
    w.assert_ledger_matches(&ctx, "A").await;
    let again = w.orders.cancel(&ctx, placed.order().id, None).await;
    assert!(matches!(again, Err(OrderError::IllegalTransition { .. })));
}

async fn the_same_external_order_sent_concurrently_creates_one_order(backend: Backend) {
    let w = Arc::new(World::new(backend).await);
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 100).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (w, ctx) = (w.clone(), ctx.clone());
            tokio::spawn(async move {
                let draft = NewOrder {
                    channel: Some("shopify".into()),
                    external_id: Some("#1001".into()),
                    ..order_of(&[("A", 1)])
                };
                w.orders.place(&ctx, draft, None).await
            })
        })
        .collect();
    let placements: Vec<Placement> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    let first_id = placements[0].order().id;
    assert!(placements.iter().all(|p| p.order().id == first_id));
    assert_eq!(
        placements
            .iter()
            .filter(|p| matches!(p, Placement::Created(_)))
            .count(),
        1
    );
    assert_eq!(w.level(&ctx, "A").await, (100, 1));
    w.assert_ledger_matches(&ctx, "A").await;
}

async fn an_idempotency_key_replays_and_refuses_a_different_body(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 10).await;
    let key = |fp: &str| {
        Some(IdempotencyRequest {
            key: "retry-42".into(),
            fingerprint: fp.into(),
        })
    };
    let first = w
        .orders
        .place(&ctx, order_of(&[("A", 1)]), key("fp-1"))
        .await
        .unwrap();
    let again = w
        .orders
        .place(&ctx, order_of(&[("A", 1)]), key("fp-1"))
        .await
        .unwrap();
    assert!(matches!(&again, Placement::Replayed(o) if o.id == first.order().id));
    let other = w
        .orders
        .place(&ctx, order_of(&[("A", 2)]), key("fp-2"))
        .await;
    assert!(matches!(other, Err(OrderError::IdempotencyKeyReused)));
    assert_eq!(w.level(&ctx, "A").await, (10, 1));
}

async fn orders_page_newest_first_and_filter_by_status(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 2).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            w.orders
                .place(&ctx, order_of(&[("A", 1)]), None)
                .await
                .unwrap()
                .order()
                .id,
        );
    }
    let all = OrderFilter::default();
    let page = |after, limit| {
        w.orders
            .list(&ctx, &all, PageRequest::new(after, Some(limit)))
    };
    let p1 = page(None, 3).await.unwrap();
    let p1_ids: Vec<_> = p1.items.iter().map(|o| o.id).collect();
    assert_eq!(p1_ids, vec![ids[4], ids[3], ids[2]]);
    let p2 = page(p1.next_cursor, 3).await.unwrap();
    let p2_ids: Vec<_> = p2.items.iter().map(|o| o.id).collect();
    assert_eq!(p2_ids, vec![ids[1], ids[0]]);
    assert!(p2.next_cursor.is_none());
    assert!(p2.items.iter().all(|o| o.lines.len() == 1));

    let backordered = w
        .orders
        .list(
            &ctx,
            &OrderFilter {
                status: Some(OrderStatus::Backordered),
            },
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    assert_eq!(backordered.items.len(), 3);
}
