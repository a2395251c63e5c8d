//! Order lifecycle against real databases (PostgreSQL and SQLite): backorder fills in ship-by
//! order, fills racing cancellations, edits that re-plan stock, routing rules, search and the
//! timeline.

mod support;

use chrono::Utc;
use inventory::NewWarehouse;
use inventory::routing::{RoutingChange, WarehouseRoute};
use inventory::service::ReceiveStock;
use kernel::{FixedClock, PageRequest, RequestContext, Sku};
use order::ports::{OrderFilter, OrderQueries, OrderSort};
use order::service::OrderService;
use order::{NewOrder, OrderChanges, OrderStatus, ServiceLevel};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use std::sync::Arc;
use support::{World, order_of};
use testkit::{Backend, on_both_databases};

on_both_databases!(
    stock_arriving_fills_backorders_earliest_ship_by_first,
    fills_racing_cancellations_never_leak_a_reservation,
    editing_lines_releases_and_reserves_again,
    routing_rules_decide_between_one_warehouse_and_a_split,
    orders_are_searchable_and_the_queue_pages_in_ship_by_order,
    the_timeline_shows_every_status_change_and_event,
    a_customer_e_mail_look_up_uses_the_index_of_orders_with_one,
    a_created_window_lists_exactly_the_orders_placed_in_it,
);

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn with_level(lines: &[(&str, i64)], level: ServiceLevel) -> NewOrder {
    NewOrder {
        service_level: level,
        ..order_of(lines)
    }
}

async fn receive(w: &World, ctx: &RequestContext, s: &str, quantity: i64, warehouse: Option<&str>) {
    w.inventory
        .receive_stock(
            ctx,
            ReceiveStock {
                reference: Some("PO-1".into()),
                warehouse: warehouse.map(Into::into),
                lines: vec![(s.into(), quantity, None)],
            },
        )
        .await
        .unwrap();
}

async fn stocked_by_warehouse(w: &World, ctx: &RequestContext, s: &str) -> Vec<(String, i64)> {
    let view = w.inventory.stock_view(ctx, &sku(s)).await.unwrap();
    view.by_warehouse
        .iter()
        .map(|(w, l)| (w.code.clone(), l.reserved.as_i64()))
        .filter(|(_, r)| *r > 0)
        .collect()
}

async fn stock_arriving_fills_backorders_earliest_ship_by_first(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 0).await;
    let mut placed = Vec::new();
    for level in [
        ServiceLevel::Standard,
        ServiceLevel::Overnight,
        ServiceLevel::Expedited,
    ] {
        let p = w
            .orders
            .place(&ctx, with_level(&[("A", 1)], level), None)
            .await
            .unwrap();
        assert_eq!(p.order().status, OrderStatus::Backordered);
        placed.push(p.order().id);
    }
    receive(&w, &ctx, "A", 2, None).await;
    let report = w.orders.fill_backorders(&ctx, &[sku("A")]).await.unwrap();
    // Overnight and expedited share the earliest ship-by; overnight ranks first.
    assert_eq!(report.filled, vec![placed[1], placed[2]]);
    for (id, expected) in placed.iter().zip([
        OrderStatus::Backordered,
        OrderStatus::Allocated,
        OrderStatus::Allocated,
    ]) {
        assert_eq!(w.orders.get(&ctx, *id).await.unwrap().status, expected);
    }
    assert_eq!(w.level(&ctx, "A").await, (2, 2));
    // Nothing left: a second fill changes nothing.
    let again = w.orders.fill_backorders(&ctx, &[sku("A")]).await.unwrap();
    assert!(again.filled.is_empty());
    w.assert_ledger_matches(&ctx, "A").await;
}

async fn fills_racing_cancellations_never_leak_a_reservation(backend: Backend) {
    let w = Arc::new(World::new(backend).await);
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 0).await;
    let mut ids = Vec::new();
    for _ in 0..16 {
        let p = w
            .orders
            .place(&ctx, order_of(&[("A", 2)]), None)
            .await
            .unwrap();
        ids.push(p.order().id);
    }
    receive(&w, &ctx, "A", 20, None).await;
    let fill = {
        let (w, ctx) = (w.clone(), ctx.clone());
        tokio::spawn(async move { w.orders.fill_backorders(&ctx, &[sku("A")]).await })
    };
    let cancels: Vec<_> = ids
        .iter()
        .step_by(2)
        .map(|id| {
            let (w, ctx, id) = (w.clone(), ctx.clone(), *id);
            tokio::spawn(async move { w.orders.cancel(&ctx, id, None).await })
        })
        .collect();
    for c in cancels {
        // A cancel may lose a version race to the fill; it must then fail cleanly.
        let _ = c.await.unwrap();
    }
    fill.await.unwrap().unwrap();
    let mut held = 0;
    for id in &ids {
        let o = w.orders.get(&ctx, *id).await.unwrap();
        if o.status == OrderStatus::Cancelled {
            assert!(
                o.lines[0].allocated.is_zero(),
                "a cancelled order holds stock"
            );
        } else {
            held += o.lines[0].allocated.as_i64();
        }
    }
    let (on_hand, reserved) = w.level(&ctx, "A").await;
    assert_eq!(on_hand, 20);
    assert_eq!(
        i64::from(reserved),
        held,
        "reserved stock must equal what orders hold"
    );
    w.assert_ledger_matches(&ctx, "A").await;
}

async fn editing_lines_releases_and_reserves_again(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 5).await;
    w.product_with_stock(&ctx, "B", 0).await;
    let placed = w
        .orders
        .place(&ctx, order_of(&[("A", 4)]), None)
        .await
        .unwrap();
    let id = placed.order().id;
    assert_eq!(w.level(&ctx, "A").await, (5, 4));
    let edited = w
        .orders
        .edit(
            &ctx,
            id,
            OrderChanges {
                lines: Some(order_of(&[("A", 1), ("B", 2)]).lines),
                ..Default::default()
            },
            Some(placed.order().version),
        )
        .await
        .unwrap();
    assert_eq!(edited.status, OrderStatus::PartiallyAllocated);
    assert_eq!(w.level(&ctx, "A").await, (5, 1));
    assert_eq!(w.level(&ctx, "B").await, (0, 0));
    let stored = w.orders.get(&ctx, id).await.unwrap();
    assert_eq!(stored.lines.len(), 2);
    assert_eq!(stored.lines[1].backordered().as_i64(), 2);
    // A stale version changes nothing.
    let stale = w
        .orders
        .edit(
            &ctx,
            id,
            OrderChanges {
                service_level: Some(ServiceLevel::Overnight),
                ..Default::default()
            },
            Some(placed.order().version),
        )
        .await;
    assert!(matches!(stale, Err(order::OrderError::VersionConflict)));
    w.assert_ledger_matches(&ctx, "A").await;
}

async fn routing_rules_decide_between_one_warehouse_and_a_split(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.inventory
        .open_warehouse(
            &ctx,
            NewWarehouse {
                code: "EAST".into(),
                name: "East".into(),
                cutoff: Some("11:00".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for s in ["A", "B"] {
        w.product_with_stock(&ctx, s, 0).await;
    }
    receive(&w, &ctx, "A", 5, Some("MAIN")).await;
    receive(&w, &ctx, "A", 5, Some("EAST")).await;
    receive(&w, &ctx, "B", 5, Some("EAST")).await;
    // Default rules: EAST alone can ship A and B, so it does.
    let whole = w
        .orders
        .place(&ctx, order_of(&[("A", 1), ("B", 1)]), None)
        .await
        .unwrap();
    assert_eq!(whole.order().cutoff.to_string(), "11:00");
    assert_eq!(
        stocked_by_warehouse(&w, &ctx, "A").await,
        vec![("EAST".into(), 1)]
    );
    // Without preferring one warehouse, A comes from MAIN (first choice) and B from EAST.
    let (rules, warehouses) = w
        .inventory
        .set_routing(
            &ctx,
            RoutingChange {
                prefer_single_warehouse: Some(false),
                warehouses: Some(vec![WarehouseRoute {
                    code: "main".into(),
                    cutoff: Some("16:00".into()),
                }]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!rules.prefer_single_warehouse);
    assert_eq!(warehouses[0].code, "MAIN");
    assert_eq!(warehouses[0].cutoff_minute, 960);
    let split = w
        .orders
        .place(&ctx, order_of(&[("A", 1), ("B", 1)]), None)
        .await
        .unwrap();
    assert_eq!(split.order().status, OrderStatus::Allocated);
    assert_eq!(split.order().cutoff.to_string(), "16:00");
    let mut a = stocked_by_warehouse(&w, &ctx, "A").await;
    a.sort();
    assert_eq!(a, vec![("EAST".into(), 1), ("MAIN".into(), 1)]);
    w.assert_ledger_matches(&ctx, "A").await;
}

async fn orders_are_searchable_and_the_queue_pages_in_ship_by_order(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    let other = w.tenant().await;
    for s in ["A", "B"] {
        w.product_with_stock(&ctx, s, 100).await;
    }
    w.product_with_stock(&other, "A", 100).await;
    let mut ids = Vec::new();
    for (i, level) in [
        ServiceLevel::Standard,
        ServiceLevel::Overnight,
        ServiceLevel::Standard,
        ServiceLevel::Expedited,
    ]
    .into_iter()
    .enumerate()
    {
        let mut draft = with_level(&[(if i == 2 { "B" } else { "A" }, 1)], level);
        draft.ship_to.email = Some(format!("Buyer{i}@Example.com"));
        draft.channel = Some(if i % 2 == 0 { "shopify" } else { "api" }.into());
        ids.push(w.orders.place(&ctx, draft, None).await.unwrap().order().id);
    }
    w.orders
        .place(&other, order_of(&[("A", 1)]), None)
        .await
        .unwrap();
    let find = |filter: OrderFilter, sort: OrderSort, after| {
        let (w, ctx) = (&w, &ctx);
        async move {
            w.store()
                .list(
                    ctx.tenant_id,
                    &filter,
                    sort,
                    PageRequest::new(after, Some(2)),
                )
                .await
                .unwrap()
        }
    };
    let by_sku = find(
        OrderFilter {
            sku: Some(sku("B")),
            ..Default::default()
        },
        OrderSort::Newest,
        None,
    )
    .await;
    assert_eq!(
        by_sku.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![ids[2]]
    );
    let by_email = find(
        OrderFilter {
            customer_email: Some("buyer3@example.COM".into()),
            ..Default::default()
        },
        OrderSort::Newest,
        None,
    )
    .await;
    assert_eq!(by_email.items[0].id, ids[3]);
    let by_channel = find(
        OrderFilter {
            channel: Some("shopify".into()),
            ..Default::default()
        },
        OrderSort::Newest,
        None,
    )
    .await;
    assert_eq!(
        by_channel.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![ids[2], ids[0]]
    );
    // The queue: overnight, expedited (same ship-by, ranked), then the standard ones, oldest
    // first — over two pages.
    let first = find(OrderFilter::default(), OrderSort::ShipBy, None).await;
    let second = find(
        OrderFilter::default(),
        OrderSort::ShipBy,
        first.next_cursor.clone(),
    )
    .await;
    let queue: Vec<_> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|o| o.id)
        .collect();
    assert_eq!(queue, vec![ids[1], ids[3], ids[0], ids[2]]);
    assert!(second.next_cursor.is_none());
    let due_soon = find(
        OrderFilter {
            ship_by_before: Some(first.items[0].ship_by + chrono::Duration::seconds(1)),
            ..Default::default()
        },
        OrderSort::ShipBy,
        None,
    )
    .await;
    assert_eq!(due_soon.items.len(), 2);
}

async fn the_timeline_shows_every_status_change_and_event(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 5).await;
    let id = w
        .orders
        .place(&ctx, order_of(&[("A", 1)]), None)
        .await
        .unwrap()
        .order()
        .id;
    w.orders
        .hold(&ctx, id, "address check".into())
        .await
        .unwrap();
    w.orders.release(&ctx, id, None).await.unwrap();
    w.orders
        .cancel(&ctx, id, Some("customer asked".into()))
        .await
        .unwrap();
    let timeline = w.orders.timeline(&ctx, id).await.unwrap();
    let changes: Vec<_> = timeline
        .iter()
        .filter(|e| e.kind == "status_change")
        .map(|e| (e.to.unwrap().as_str(), e.reason.clone()))
        .collect();
    assert_eq!(
        changes,
        vec![
            ("allocated", None),
            ("on_hold", Some("address check".into())),
            ("allocated", None),
            ("cancelled", Some("customer asked".into())),
        ]
    );
    let events: Vec<&str> = timeline
        .iter()
        .filter(|e| e.kind != "status_change")
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        events,
        vec![
            "order.created",
            "order.held",
            "order.released",
            "order.cancelled"
        ]
    );
    assert!(
        timeline
            .iter()
            .all(|e| e.kind != "status_change" || e.actor.is_some())
    );
    let other = w.tenant().await;
    assert!(w.orders.timeline(&other, id).await.is_err());
}

/// The e-mail index holds only orders that have one (most marketplace orders do not, and
/// skip its upkeep); the look-up by e-mail is still planned on it.
async fn a_customer_e_mail_look_up_uses_the_index_of_orders_with_one(backend: Backend) {
    let w = World::new(backend).await;
    let lookup = "SELECT id FROM orders WHERE tenant_id = '00000000-0000-0000-0000-000000000000' \
                  AND customer_email = 'ada@example.com'";
    let plan = match backend {
        Backend::Postgres => {
            let admin = Database::connect(w.db.superuser_url().expect("PostgreSQL"))
                .await
                .unwrap();
            let definition = admin
                .query_one(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_orders_tenant_email'",
                ))
                .await
                .unwrap()
                .expect("the index exists");
            let definition: String = definition.try_get("", "indexdef").unwrap();
            assert!(
                definition.ends_with("WHERE (customer_email IS NOT NULL)"),
                "{definition}"
            );
            // An empty table is scanned whole; without that choice the plan shows the index.
            admin
                .execute_unprepared("SET enable_seqscan = off")
                .await
                .unwrap();
            let rows = admin
                .query_all(Statement::from_string(
                    DbBackend::Postgres,
                    format!("EXPLAIN {lookup}"),
                ))
                .await
                .unwrap();
            admin.close().await.unwrap();
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
        Backend::Sqlite => {
            let definition = w
                .store()
                .connection()
                .query_one(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT sql FROM sqlite_master \
                     WHERE type = 'index' AND name = 'ix_orders_tenant_email'",
                ))
                .await
                .unwrap()
                .expect("the index exists");
            let definition: String = definition.try_get("", "sql").unwrap();
            assert!(
                definition.ends_with("WHERE customer_email IS NOT NULL"),
                "{definition}"
            );
            let rows = w
                .store()
                .connection()
                .query_all(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("EXPLAIN QUERY PLAN {lookup}"),
                ))
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.try_get::<String>("", "detail").unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    assert!(plan.contains("ix_orders_tenant_email"), "{plan}");
}

async fn a_created_window_lists_exactly_the_orders_placed_in_it(backend: Backend) {
    let w = World::new(backend).await;
    let ctx = w.tenant().await;
    w.product_with_stock(&ctx, "A", 10).await;
    let start = Utc::now() - chrono::Duration::days(30);
    let clock = FixedClock::at(start);
    let orders = OrderService::new(w.store().clone(), w.store().clone(), clock.clone());
    let mut placed = Vec::new();
    for _ in 0..3 {
        let p = orders
            .place(&ctx, order_of(&[("A", 1)]), None)
            .await
            .unwrap();
        placed.push((p.order().id, p.order().created_at));
        clock.advance(chrono::Duration::days(1));
    }
    let window = |from, before| {
        let (w, ctx) = (&w, &ctx);
        async move {
            let filter = OrderFilter {
                created_from: from,
                created_before: before,
                ..Default::default()
            };
            let page = PageRequest::new(None, Some(10));
            let found = w
                .store()
                .list(ctx.tenant_id, &filter, OrderSort::Newest, page);
            let found = found.await.unwrap().items;
            found.iter().map(|o| o.id).collect::<Vec<_>>()
        }
    };
    let [(first, first_at), (second, second_at), (third, third_at)] = placed[..] else {
        unreachable!()
    };
    // From is inclusive, before exclusive, to the microsecond.
    assert_eq!(window(Some(second_at), Some(third_at)).await, vec![second]);
    let just_after = second_at + chrono::Duration::microseconds(1);
    assert_eq!(window(Some(just_after), Some(third_at)).await, vec![]);
    assert_eq!(window(None, Some(second_at)).await, vec![first]);
    assert_eq!(window(Some(second_at), None).await, vec![third, second]);
    let ever = window(Some(first_at - chrono::Duration::days(1)), Some(Utc::now())).await;
    assert_eq!(ever, vec![third, second, first]);
}
