//! An order's life over HTTP: edit, hold and release, pick, pack, ship in two parcels,
//! deliver, the timeline; routing across warehouses; backorders filled when stock arrives.

use crate::on_both_databases;
use e2e::{Seller, TestApp, order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(
    an_order_is_edited_held_shipped_in_two_parcels_and_delivered,
    routing_serves_one_warehouse_else_splits_else_backorders,
    stock_arriving_later_goes_to_the_earliest_ship_by_first,
    bad_fulfilment_requests_are_refused_and_change_nothing,
);

async fn send(
    app: &TestApp,
    seller: &Seller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> e2e::Reply {
    app.call(method, path, Some(&seller.api_key), body).await
}

async fn order(app: &TestApp, seller: &Seller, id: &str) -> Value {
    send(
        app,
        seller,
        Method::GET,
        &format!("/api/v1/orders/{id}"),
        None,
    )
    .await
    .body
}

async fn an_order_is_edited_held_shipped_in_two_parcels_and_delivered(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Parcel Co").await;
    app.create_product(&seller, "MUG").await;
    app.set_stock(&seller, "MUG", 10).await;
    let mut body = order_body(&[("MUG", 3)]);
    body["service_level"] = json!("expedited");
    let placed = app.place_order(&seller, body).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["service_level"], "expedited");
    assert!(placed.body["ship_by"].is_string());
    let id = placed.body["id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/api/v1/orders/{id}{tail}");

    // Edit: a stale If-Match is refused; the right one changes lines and address.
    let edit = json!({
        "lines": [{ "sku": "MUG", "quantity": 4, "unit_price": { "amount_minor": 1999, "currency": "GBP" } }],
        "ship_to": { "name": "Ada Lovelace", "line1": "1 New St", "city": "Leeds", "country": "GB", "email": "ada@example.com" }
    });
    let stale = app
        .raw(
            reqwest::Client::new()
                .patch(app.url(&path("")))
                .bearer_auth(&seller.api_key)
                .header("if-match", "\"7\"")
                .json(&edit),
        )
        .await;
    assert_eq!(stale.assert_problem(409), "conflict");
    let edited = app
        .raw(
            reqwest::Client::new()
                .patch(app.url(&path("")))
                .bearer_auth(&seller.api_key)
                .header("if-match", "\"1\"")
                .json(&edit),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.header("etag"), Some("\"2\""));
    assert_eq!(edited.body["lines"][0]["allocated"], 4);
    assert_eq!(edited.body["ship_to"]["city"], "Leeds");
    assert_eq!(app.stock(&seller, "MUG").await["reserved"], 4);

    // Hold stops the warehouse; release lets it go on.
    let held = send(
        &app,
        &seller,
        Method::POST,
        &path("/hold"),
        Some(json!({ "reason": "fraud check" })),
    )
    .await;
    assert_eq!(held.body["status"], "on_hold", "{}", held.body);
    assert_eq!(held.body["hold"]["reason"], "fraud check");
    let blocked = send(&app, &seller, Method::POST, &path("/pick"), None).await;
    assert_eq!(blocked.assert_problem(409), "illegal-transition");
    let released = send(&app, &seller, Method::POST, &path("/release"), None).await;
    assert_eq!(released.body["status"], "allocated", "{}", released.body);

    assert_eq!(
        send(&app, &seller, Method::POST, &path("/pick"), None)
            .await
            .body["status"],
        "picking"
    );
    let packed = send(&app, &seller, Method::POST, &path("/pack"), None).await;
    assert_eq!(packed.body["lines"][0]["picked"], 4);

    let parcel = |quantity: i64, tracking: &str| {
        json!({ "carrier": "ups", "tracking_number": tracking,
                "tracking_url": format!("https://ups.example/track/{tracking}"),
                "lines": [{ "line_no": 1, "quantity": quantity }] })
    };
    let first = send(
        &app,
        &seller,
        Method::POST,
        &path("/shipments"),
        Some(parcel(1, "1Z001")),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["order"]["status"], "partially_shipped");
    assert_eq!(first.body["shipment"]["lines"][0]["sku"], "MUG");
    let level = app.stock(&seller, "MUG").await;
    assert_eq!(
        (level["on_hand"].clone(), level["reserved"].clone()),
        (json!(9), json!(3))
    );
    let not_editable = send(
        &app,
        &seller,
        Method::PATCH,
        &path(""),
        Some(json!({ "service_level": "overnight" })),
    )
    .await;
    assert_eq!(not_editable.assert_problem(409), "order-not-editable");
    let second = send(
        &app,
        &seller,
        Method::POST,
        &path("/shipments"),
        Some(parcel(3, "1Z002")),
    )
    .await;
    assert_eq!(second.body["order"]["status"], "shipped", "{}", second.body);
    assert_eq!(second.body["order"]["lines"][0]["shipped"], 4);
    let level = app.stock(&seller, "MUG").await;
    assert_eq!(
        (level["on_hand"].clone(), level["reserved"].clone()),
        (json!(6), json!(0))
    );

    let delivered = send(&app, &seller, Method::POST, &path("/deliver"), None).await;
    assert_eq!(delivered.body["status"], "delivered");
    let shipments = send(&app, &seller, Method::GET, &path("/shipments"), None).await;
    let tracking: Vec<&str> = shipments
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tracking_number"].as_str().unwrap())
        .collect();
    assert_eq!(tracking, ["1Z001", "1Z002"]);

    let timeline = send(&app, &seller, Method::GET, &path("/timeline"), None).await;
    let statuses: Vec<&str> = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "status_change")
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "allocated",
            "on_hold",
            "allocated",
            "picking",
            "packed",
            "partially_shipped",
            "shipped",
            "delivered"
        ]
    );
    let shipped_events = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "order.shipped")
        .count();
    assert_eq!(shipped_events, 2);
    let moves = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/MUG/movements",
        None,
    )
    .await;
    let ships = moves.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "ship")
        .count();
    assert!(ships >= 2, "{}", moves.body);

    // Another seller cannot see or touch it.
    let stranger = app.signup("Nosy Ltd").await;
    let peek = send(&app, &stranger, Method::GET, &path("/timeline"), None).await;
    assert_eq!(peek.status, StatusCode::NOT_FOUND);
    let poke = send(
        &app,
        &stranger,
        Method::POST,
        &path("/hold"),
        Some(json!({ "reason": "x" })),
    )
    .await;
    assert_eq!(poke.status, StatusCode::NOT_FOUND);
}

async fn warehouse(app: &TestApp, seller: &Seller, code: &str, cutoff: &str) {
    let r = send(
        app,
        seller,
        Method::POST,
        "/api/v1/warehouses",
        Some(json!({ "code": code, "name": code, "cutoff": cutoff })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn receive(app: &TestApp, seller: &Seller, sku: &str, quantity: i64, warehouse: &str) {
    let r = send(
        app,
        seller,
        Method::POST,
        "/api/v1/receipts",
        Some(json!({ "warehouse": warehouse, "lines": [{ "sku": sku, "quantity": quantity }] })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Reserved units of `sku` per warehouse code, leaving out zeros.
async fn reserved_by_warehouse(app: &TestApp, seller: &Seller, sku: &str) -> Vec<(String, i64)> {
    let stock = app.stock(seller, sku).await;
    let mut out: Vec<(String, i64)> = stock["by_warehouse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["warehouse"].as_str().unwrap().to_owned(),
                w["reserved"].as_i64().unwrap(),
            )
        })
        .filter(|(_, r)| *r > 0)
        .collect();
    out.sort();
    out
}

async fn routing_serves_one_warehouse_else_splits_else_backorders(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Two Sheds Ltd").await;
    warehouse(&app, &seller, "EAST", "11:00").await;
    for sku in ["A", "B"] {
        app.create_product(&seller, sku).await;
    }
    receive(&app, &seller, "A", 2, "MAIN").await;
    receive(&app, &seller, "A", 3, "EAST").await;
    receive(&app, &seller, "B", 3, "EAST").await;

    let rules = send(&app, &seller, Method::GET, "/api/v1/allocation-rules", None).await;
    assert_eq!(
        rules.body["prefer_single_warehouse"], true,
        "{}",
        rules.body
    );
    assert_eq!(rules.body["warehouses"][0]["code"], "MAIN");

    // One warehouse has everything: EAST ships it all, though MAIN is first choice.
    let one = app
        .place_order(&seller, order_body(&[("A", 1), ("B", 1)]))
        .await;
    assert_eq!(one.body["status"], "allocated", "{}", one.body);
    assert_eq!(
        reserved_by_warehouse(&app, &seller, "A").await,
        vec![("EAST".into(), 1)]
    );
    // Nobody has 4 A: split, MAIN first.
    let split = app.place_order(&seller, order_body(&[("A", 4)])).await;
    assert_eq!(split.body["status"], "allocated", "{}", split.body);
    assert_eq!(
        reserved_by_warehouse(&app, &seller, "A").await,
        vec![("EAST".into(), 3), ("MAIN".into(), 2)]
    );
    // Nothing left of A, some B: partial, the rest backordered.
    let partial = app
        .place_order(&seller, order_body(&[("A", 1), ("B", 1)]))
        .await;
    assert_eq!(
        partial.body["status"], "partially_allocated",
        "{}",
        partial.body
    );
    assert_eq!(partial.body["lines"][0]["backordered"], 1);

    // Rules: EAST first with a later cut-off, no splitting.
    let put = send(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/allocation-rules",
        Some(json!({
            "allow_split": false, "warehouses": [{ "code": "EAST", "cutoff": "18:30" }]
        })),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["warehouses"][0]["code"], "EAST");
    assert_eq!(put.body["warehouses"][0]["cutoff"], "18:30");
    assert_eq!(put.body["allow_split"], false);
    receive(&app, &seller, "A", 1, "MAIN").await;
    receive(&app, &seller, "A", 1, "EAST").await;
    // Two A exist in two places; without splitting only one ships now.
    let unsplit = app.place_order(&seller, order_body(&[("A", 2)])).await;
    assert_eq!(unsplit.body["lines"][0]["allocated"], 1, "{}", unsplit.body);
    let bad = send(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/allocation-rules",
        Some(json!({
            "warehouses": [{ "code": "NOWHERE" }, { "code": "EAST", "cutoff": "25:00" }]
        })),
    )
    .await;
    assert_eq!(bad.assert_problem(400), "validation-error");
    let after = send(&app, &seller, Method::GET, "/api/v1/allocation-rules", None).await;
    assert_eq!(after.body["warehouses"][0]["cutoff"], "18:30");
}

/// Polls the order until `done` holds (the fill runs on the event bus, after the receipt's
/// transaction commits), for at most ~10 s.
pub(crate) async fn eventually(
    app: &TestApp,
    seller: &Seller,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..100 {
        let o = order(app, seller, id).await;
        if done(&o) {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    order(app, seller, id).await
}

async fn stock_arriving_later_goes_to_the_earliest_ship_by_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Late Stock Ltd").await;
    app.create_product(&seller, "A").await;
    let mut ids = Vec::new();
    for level in ["standard", "overnight", "standard"] {
        let mut body = order_body(&[("A", 1)]);
        body["service_level"] = json!(level);
        let placed = app.place_order(&seller, body).await;
        assert_eq!(placed.body["status"], "backordered", "{}", placed.body);
        ids.push(placed.body["id"].as_str().unwrap().to_owned());
    }
    let queue = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/orders?status=backordered&sort=ship_by",
        None,
    )
    .await;
    let queued: Vec<&str> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(queued, [ids[1].as_str(), ids[0].as_str(), ids[2].as_str()]);

    receive(&app, &seller, "A", 2, "MAIN").await;
    let overnight = eventually(&app, &seller, &ids[1], |o| o["status"] == "allocated").await;
    assert_eq!(overnight["status"], "allocated");
    let oldest = eventually(&app, &seller, &ids[0], |o| o["status"] == "allocated").await;
    assert_eq!(oldest["status"], "allocated");
    assert_eq!(order(&app, &seller, &ids[2]).await["status"], "backordered");
    let level = app.stock(&seller, "A").await;
    assert_eq!(
        (level["on_hand"].clone(), level["reserved"].clone()),
        (json!(2), json!(2))
    );
    let timeline = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{}/timeline", ids[1]),
        None,
    )
    .await;
    assert!(
        timeline
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "order.allocated")
    );
}

async fn bad_fulfilment_requests_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Careful Co").await;
    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 5).await;
    let placed = app.place_order(&seller, order_body(&[("A", 2)])).await;
    let id = placed.body["id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/api/v1/orders/{id}{tail}");
    let cases = [
        (
            Method::POST,
            path("/shipments"),
            json!({ "carrier": "ups", "lines": [{ "line_no": 1, "quantity": 3 }] }),
            400,
        ),
        (
            Method::POST,
            path("/shipments"),
            json!({ "carrier": "", "lines": [] }),
            400,
        ),
        (
            Method::POST,
            path("/shipments"),
            json!({ "carrier": "ups", "lines": [{ "line_no": 9, "quantity": 1 }] }),
            400,
        ),
        (Method::POST, path("/hold"), json!({ "reason": "" }), 400),
        (Method::PATCH, path(""), json!({}), 400),
        (Method::PATCH, path(""), json!({ "lines": [] }), 400),
        (
            Method::PATCH,
            path(""),
            json!({ "service_level": "teleport" }),
            400,
        ),
        (
            Method::POST,
            "/api/v1/orders/not-a-uuid/pick".to_owned(),
            json!({}),
            404,
        ),
        (Method::POST, path("/deliver"), json!({}), 409),
        (
            Method::GET,
            "/api/v1/orders?sort=sideways".to_owned(),
            Value::Null,
            400,
        ),
        (
            Method::GET,
            "/api/v1/orders?status=lost".to_owned(),
            Value::Null,
            400,
        ),
        (
            Method::GET,
            "/api/v1/orders?sort=ship_by&cursor=bm9wZQ".to_owned(),
            Value::Null,
            400,
        ),
    ];
    for (method, path, body, status) in cases {
        let body = (!body.is_null()).then_some(body);
        let reply = send(&app, &seller, method.clone(), &path, body).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {path}: {}",
            reply.body
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
    }
    let after = order(&app, &seller, &id).await;
    assert_eq!(after["status"], "allocated");
    assert_eq!(after["version"], 1);
    assert_eq!(app.stock(&seller, "A").await["reserved"], 2);
}
