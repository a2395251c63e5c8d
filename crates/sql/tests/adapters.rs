//! The SQL adapter against real databases: every test runs on PostgreSQL and on SQLite, each
//! in a database of its own.

use chrono::Utc;
use inventory::ports::{ProductRepository, StockQueries};
use inventory::service::{InventoryService, SetCountedQuantity};
use inventory::{InventoryError, MovementKind, NewProduct};
use kernel::{PageRequest, Sku};
use order::ports::{OrderFilter, OrderQueries, OrderSort};
use order::service::{IdempotencyRequest, Placement};
use order::{NewOrder, OrderError, OrderStatus};
use std::sync::Arc;
use testkit::{Backend, on_both_databases};

on_both_databases!(
    a_duplicate_sku_is_a_business_error_and_products_page_by_sku,
    one_tenant_never_sees_another_tenants_products_or_orders,
    a_count_adjusts_on_hand_through_the_ledger,
    concurrent_orders_for_the_last_units_never_oversell,
    concurrent_kits_sharing_a_component_never_oversell_it,
    rebuild_equals_live_after_a_random_workload_and_repairs_drift,
    an_expired_hold_is_released_once_by_the_expiry_sweep,
    a_short_order_without_backorders_writes_nothing_at_all,
    cancelling_releases_reservations_and_records_the_ledger,
    the_same_external_order_sent_concurrently_creates_one_order,
    an_idempotency_key_replays_and_refuses_a_different_body,
    orders_page_newest_first_and_filter_by_status,
    text_that_needs_escaping_is_stored_exactly,
    two_lines_of_one_sku_reserve_both_from_its_row,
);

mod support;
use support::{World, count, order_of};

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

    let first = ProductRepository::list(
        w.store(),
        ctx.tenant_id,
        &Default::default(),
        PageRequest::new(None, Some(2)),
    )
    .await
    .unwrap();
    let skus: Vec<_> = first.items.iter().map(|p| p.sku.to_string()).collect();
    assert_eq!(skus, vec!["A", "B"]);
    let second = ProductRepository::list(
        w.store(),
        ctx.tenant_id,
        &Default::default(),
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
    assert!(
        w.store()
            .levels(b.tenant_id, &sku)
            .await
            .unwrap()
            .is_empty()
    );
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
        .movements(
            ctx.tenant_id,
            &Sku::parse("MUG").unwrap(),
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    // Newest first.
    let deltas: Vec<_> = moves
        .items
        .iter()
        .map(|m| (m.kind, m.on_hand_delta))
        .collect();
    assert_eq!(
        deltas,
        vec![(MovementKind::Count, -3), (MovementKind::Count, 10)]
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
        OrderSort::Newest,
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
        w.orders.list(
            &ctx,
            &all,
            OrderSort::Newest,
            PageRequest::new(after, Some(limit)),
        )
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
                statuses: vec![OrderStatus::Backordered],
                ..Default::default()
            },
            OrderSort::Newest,
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    assert_eq!(backordered.items.len(), 3);
}

async fn concurrent_kits_sharing_a_component_never_oversell_it(backend: Backend) {
    let w = Arc::new(World::new(backend).await);
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "CUP", 30).await;
    for (kit, per) in [("PAIR", 2), ("TRIO", 3)] {
        w.inventory
            .register_product(
                &ctx,
                NewProduct {
                    sku: kit.into(),
                    name: format!("{kit} of cups"),
                    components: vec![("CUP".into(), per)],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..48)
        .map(|i| {
            let (w, ctx) = (w.clone(), ctx.clone());
            let lines: &[(&str, i64)] = match i % 3 {
                0 => &[("PAIR", 1), ("CUP", 1)],
                1 => &[("TRIO", 1), ("PAIR", 1)],
                _ => &[("CUP", 2)],
            };
            tokio::spawn(async move { w.orders.place(&ctx, order_of(lines), None).await })
        })
        .collect();
    let mut cups_allocated = 0;
    for t in tasks {
        let order = t.await.unwrap().unwrap().order().clone();
        for line in &order.lines {
            let per = match line.sku.as_str() {
                "PAIR" => 2,
                "TRIO" => 3,
                _ => 1,
            };
            cups_allocated += i64::from(line.allocated.get()) * per;
        }
    }
    let (on_hand, reserved) = w.level(&ctx, "CUP").await;
    assert_eq!(on_hand, 30);
    assert!(reserved <= 30, "oversold: {reserved} of 30 reserved");
    assert_eq!(
        i64::from(reserved),
        cups_allocated,
        "orders and stock disagree"
    );
    assert!(
        reserved >= 28,
        "stock left unsold while orders waited: {reserved}"
    );
    w.assert_ledger_matches(&ctx, "CUP").await;
}

/// A small deterministic generator: the workload is random-looking but repeatable.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn rebuild_equals_live_after_a_random_workload_and_repairs_drift(backend: Backend) {
    use inventory::NewWarehouse;
    use inventory::hold::NewHold;
    use inventory::service::ReceiveStock;
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.inventory
        .open_warehouse(
            &ctx,
            NewWarehouse {
                code: "EAST".into(),
                name: "East".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for sku in ["A", "B", "C"] {
        w.product_with_stock(&ctx, sku, 0).await;
    }
    let skus = ["A", "B", "C"];
    let warehouses = ["MAIN", "EAST"];
    let mut rng = Lcg(42);
    let mut orders = Vec::new();
    let mut holds = Vec::new();
    let mut transfers = Vec::new();
    for _ in 0..120 {
        let sku = skus[rng.next(3) as usize];
        let wh = warehouses[rng.next(2) as usize];
        let n = rng.next(8) as i64 + 1;
        // Refusals (not enough stock, below reserved, already done) are part of the workload.
        let _ = match rng.next(8) {
            0 => w
                .inventory
                .set_counted_quantity(
                    &ctx,
                    SetCountedQuantity {
                        warehouse: Some(wh.into()),
                        ..count(sku, n * 3)
                    },
                )
                .await
                .map(|_| ()),
            1 => w
                .inventory
                .receive_stock(
                    &ctx,
                    ReceiveStock {
                        warehouse: Some(wh.into()),
                        lines: vec![(sku.into(), n, None)],
                        reference: None,
                    },
                )
                .await
                .map(|_| ()),
            2 | 3 => {
                if let Ok(p) = w.orders.place(&ctx, order_of(&[(sku, n)]), None).await {
                    orders.push(p.order().id);
                }
                Ok(())
            }
            4 => {
                if let Some(id) = orders.pop() {
                    let _ = w.orders.cancel(&ctx, id, None).await;
                }
                Ok(())
            }
            5 => w
                .inventory
                .place_hold(
                    &ctx,
                    NewHold {
                        lines: vec![(sku.into(), n)],
                        ttl_seconds: None,
                        reference: None,
                    },
                )
                .await
                .map(|h| holds.push(h.id)),
            6 => match holds.pop() {
                Some(id) => w.inventory.release_hold(&ctx, id).await.map(|_| ()),
                None => Ok(()),
            },
            _ => {
                if rng.next(2) == 0 {
                    let to = if wh == "MAIN" { "EAST" } else { "MAIN" };
                    w.inventory
                        .dispatch_transfer(&ctx, wh, to, vec![(sku.into(), n)], None)
                        .await
                        .map(|t| transfers.push(t.id))
                } else if let Some(id) = transfers.pop() {
                    w.inventory.receive_transfer(&ctx, id).await.map(|_| ())
                } else {
                    Ok(())
                }
            }
        };
    }
    let report = w.inventory.rebuild_levels(&ctx, false).await.unwrap();
    assert!(report.levels_checked >= 3);
    assert!(
        report.drift.is_empty(),
        "drift after the workload: {:?}",
        report.drift
    );

    // Break one level behind the ledger's back: the check names it, the repair fixes it.
    use inventory::ports::InventoryUnitOfWork;
    let a = Sku::parse("A").unwrap();
    let level = w.store().levels(ctx.tenant_id, &a).await.unwrap().remove(0);
    let mut tx = w.store().begin(ctx.tenant_id).await.unwrap();
    let wrong = inventory::StockDelta {
        on_hand: level.on_hand.as_i64() + 5,
        reserved: level.reserved.as_i64(),
        incoming: level.incoming.as_i64(),
    };
    tx.overwrite_level(level.warehouse_id, &a, wrong)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let broken = w.inventory.rebuild_levels(&ctx, true).await.unwrap();
    assert!(!broken.drift.is_empty());
    assert!(
        broken
            .drift
            .iter()
            .all(|d| d.sku.as_str() == "A" && d.live.on_hand == d.ledger.on_hand + 5)
    );
    assert!(broken.repaired);
    let after = w.inventory.rebuild_levels(&ctx, false).await.unwrap();
    assert!(after.drift.is_empty());
}

async fn an_expired_hold_is_released_once_by_the_expiry_sweep(backend: Backend) {
    use inventory::hold::{HoldStatus, NewHold};
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "HAT", 5).await;
    let hold = w
        .inventory
        .place_hold(
            &ctx,
            NewHold {
                lines: vec![("HAT".into(), 4)],
                ttl_seconds: Some(30),
                reference: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(w.level(&ctx, "HAT").await, (5, 4));

    let s = w.store().clone();
    let sweeper = |at| {
        InventoryService::new(
            s.clone(),
            s.clone(),
            s.clone(),
            s.clone(),
            kernel::FixedClock::at(at),
        )
    };
    // Not yet due: nothing happens.
    assert_eq!(sweeper(Utc::now()).expire_holds(100).await.unwrap(), 0);
    let later = Utc::now() + chrono::Duration::seconds(31);
    assert_eq!(sweeper(later).expire_holds(100).await.unwrap(), 1);
    assert_eq!(
        sweeper(later).expire_holds(100).await.unwrap(),
        0,
        "released once"
    );
    assert_eq!(w.level(&ctx, "HAT").await, (5, 0));
    let h = w.inventory.hold(&ctx, hold.id).await.unwrap();
    assert_eq!(h.status, HoldStatus::Expired);
    w.assert_ledger_matches(&ctx, "HAT").await;
}

/// The order's writes are sent together as one statement (see `write_behind`): every
/// character a customer can type must come back exactly, and none may change the statement.
async fn text_that_needs_escaping_is_stored_exactly(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 10).await;
    let nasty = "O'Brien \\ \"q\" \\' E'x' $$ $1 ?; -- DROP TABLE orders; \t\n ü 🚚 \\x00";
    let mut draft = NewOrder {
        channel: Some("shopify".into()),
        external_id: Some("#1001'); DELETE FROM orders; --".into()),
        ..order_of(&[("A", 2)])
    };
    draft.ship_to.name = nasty.into();
    draft.ship_to.line2 = Some("\\".into());
    draft.ship_to.company = Some("''".into());
    let placed = w.orders.place(&ctx, draft.clone(), None).await.unwrap();
    let stored = w.orders.get(&ctx, placed.order().id).await.unwrap();
    assert_eq!(stored.ship_to.name, nasty);
    assert_eq!(stored.ship_to.line2.as_deref(), Some("\\"));
    assert_eq!(stored.ship_to.company.as_deref(), Some("''"));
    assert_eq!(stored.channel, "shopify");
    assert_eq!(stored.external_id, draft.external_id);
    // To the microsecond, in UTC, as the bound values always were.
    assert_eq!(
        stored.created_at.timestamp_micros(),
        placed.order().created_at.timestamp_micros()
    );
    // Sent again, the same external id finds the stored order: the key matched exactly.
    let again = w.orders.place(&ctx, draft, None).await.unwrap();
    assert!(matches!(again, Placement::Existing(ref o) if o.id == stored.id));
    assert_eq!(w.level(&ctx, "A").await, (10, 2));
    w.assert_ledger_matches(&ctx, "A").await;
}

/// The held-back stock updates go out as one statement, which may change a row only once:
/// two lines of the same SKU must add up on its one row, not lose one of them.
async fn two_lines_of_one_sku_reserve_both_from_its_row(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 10).await;
    w.product_with_stock(&ctx, "B", 10).await;
    let placed = w
        .orders
        .place(&ctx, order_of(&[("A", 2), ("B", 1), ("A", 3)]), None)
        .await
        .unwrap();
    assert_eq!(placed.order().status, OrderStatus::Allocated);
    assert_eq!(w.level(&ctx, "A").await, (10, 5));
    assert_eq!(w.level(&ctx, "B").await, (10, 1));
    w.assert_ledger_matches(&ctx, "A").await;
    w.assert_ledger_matches(&ctx, "B").await;
}
