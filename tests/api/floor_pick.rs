//! Pick and pack on the floor over HTTP: bins and put-away, a two-order batch pick list in
//! walk order scanned to completion (a replayed scan applies once; wrong scans change
//! nothing), short picks that backorder a line and re-allocate it from a second warehouse,
//! packing into the suggested box, and other tenants' ids answering 404.

use crate::on_both_databases;
use e2e::{Seller, TestApp, order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(
    a_batch_pick_list_walks_the_bins_in_order_and_packing_finishes_the_order,
    a_short_pick_backorders_the_line_and_reallocates_it_from_a_second_warehouse,
    a_short_pick_with_no_stock_elsewhere_leaves_the_line_backordered,
);

const TEE_GTIN: &str = "00000000000017";
const MUG_GTIN: &str = "00000000000024";

async fn send(
    app: &TestApp,
    seller: &Seller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> e2e::Reply {
    app.call(method, path, Some(&seller.api_key), body).await
}

async fn ok(app: &TestApp, seller: &Seller, method: Method, path: &str, body: Value) -> Value {
    let r = send(app, seller, method, path, Some(body)).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    r.body
}

async fn get(app: &TestApp, seller: &Seller, path: &str) -> Value {
    let r = send(app, seller, Method::GET, path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

async fn product(app: &TestApp, seller: &Seller, sku: &str, gtin: &str, dims: [i64; 4]) {
    ok(
        app,
        seller,
        Method::POST,
        "/api/v1/products",
        json!({
            "sku": sku, "name": format!("Product {sku}"), "barcode": gtin,
            "weight_grams": dims[3],
            "dimensions": { "length_mm": dims[0], "width_mm": dims[1], "height_mm": dims[2] },
        }),
    )
    .await;
}

async fn bin(app: &TestApp, seller: &Seller, warehouse: &str, code: &str, walk: u32) {
    ok(
        app,
        seller,
        Method::POST,
        &format!("/api/v1/warehouses/{warehouse}/bins"),
        json!({ "code": code, "walk_order": walk }),
    )
    .await;
}

async fn put_away(
    app: &TestApp,
    seller: &Seller,
    bin: &str,
    sku: &str,
    quantity: i64,
) -> e2e::Reply {
    send(
        app,
        seller,
        Method::POST,
        "/api/v1/warehouse/put-away",
        Some(json!({ "warehouse": "MAIN", "bin": bin, "sku": sku, "quantity": quantity })),
    )
    .await
}

/// What `bin` of MAIN holds of `sku`, per `GET /inventory/{sku}/bins`.
async fn in_bin(app: &TestApp, seller: &Seller, sku: &str, bin: &str) -> i64 {
    let bins = get(app, seller, &format!("/api/v1/inventory/{sku}/bins")).await;
    bins["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["warehouse"] == "MAIN" && b["bin"] == bin)
        .map_or(0, |b| b["quantity"].as_i64().unwrap())
}

async fn place(app: &TestApp, seller: &Seller, lines: &[(&str, i64)]) -> String {
    let placed = app.place_order(seller, order_body(lines)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["status"], "allocated", "{}", placed.body);
    placed.body["id"].as_str().unwrap().to_owned()
}

async fn order_status(app: &TestApp, seller: &Seller, id: &str) -> Value {
    get(app, seller, &format!("/api/v1/orders/{id}")).await
}

fn scan(id: &str, bin: &str, barcode: &str, quantity: u32) -> Value {
    json!({ "scan_id": id, "bin": bin, "barcode": barcode, "quantity": quantity })
}

async fn a_batch_pick_list_walks_the_bins_in_order_and_packing_finishes_the_order(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Floor Co").await;
    let other = app.signup("Elsewhere Ltd").await;
    product(&app, &seller, "TEE", TEE_GTIN, [300, 200, 20, 200]).await;
    product(&app, &seller, "MUG", MUG_GTIN, [120, 100, 100, 350]).await;
    app.set_stock(&seller, "TEE", 5).await;
    app.set_stock(&seller, "MUG", 5).await;

    // Bins: walk order decides the list; a duplicate or a malformed code is refused.
    bin(&app, &seller, "MAIN", "b-01", 20).await;
    bin(&app, &seller, "main", "A-01", 10).await;
    let dup = send(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouses/MAIN/bins",
        Some(json!({ "code": "B-01", "walk_order": 5 })),
    )
    .await;
    assert_eq!(dup.assert_problem(409), "duplicate-bin");
    let bad = send(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouses/MAIN/bins",
        Some(json!({ "code": "A/1", "walk_order": 5 })),
    )
    .await;
    assert_eq!(bad.assert_problem(400), "validation-error");
    let bins = get(&app, &seller, "/api/v1/warehouses/MAIN/bins").await;
    let codes: Vec<&str> = bins["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["A-01", "B-01"]);
    let nowhere = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/warehouses/NOPE/bins",
        None,
    )
    .await;
    assert_eq!(nowhere.assert_problem(404), "not-found");

    // Put-away places on-hand units only.
    assert_eq!(
        put_away(&app, &seller, "B-01", "TEE", 5).await.status,
        StatusCode::OK
    );
    assert_eq!(
        put_away(&app, &seller, "A-01", "MUG", 5).await.status,
        StatusCode::OK
    );
    let over = put_away(&app, &seller, "A-01", "TEE", 1).await;
    assert_eq!(over.assert_problem(422), "exceeds-on-hand");
    let unknown = put_away(&app, &seller, "Z-99", "TEE", 1).await;
    assert_eq!(unknown.assert_problem(422), "unknown-bin");
    assert_eq!(in_bin(&app, &seller, "TEE", "B-01").await, 5);
    assert_eq!(in_bin(&app, &seller, "TEE", "A-01").await, 0);

    // Two orders, one batch: the list walks A-01 (MUG) then B-01 (TEE, both orders' share).
    let first = place(&app, &seller, &[("TEE", 2), ("MUG", 1)]).await;
    let second = place(&app, &seller, &[("TEE", 1)]).await;
    let created = ok(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/picklists",
        json!({ "order_ids": [first, second] }),
    )
    .await;
    let list = &created["items"][0];
    assert_eq!(created["items"].as_array().unwrap().len(), 1, "{created}");
    let walk: Vec<(u64, &str, &str, u64)> = list["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["seq"].as_u64().unwrap(),
                l["bin"].as_str().unwrap(),
                l["sku"].as_str().unwrap(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(walk, [(1, "A-01", "MUG", 1), (2, "B-01", "TEE", 3)]);
    let id = list["id"].as_str().unwrap().to_owned();
    for order in [&first, &second] {
        assert_eq!(
            order_status(&app, &seller, order).await["status"],
            "picking"
        );
    }
    // Picking orders are not allocated any more: a second list is refused, naming them.
    let again = send(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/picklists",
        Some(json!({ "order_ids": [first] })),
    )
    .await;
    assert_eq!(again.assert_problem(409), "orders-not-allocated");
    assert_eq!(again.body["order_ids"][0], first.as_str());

    let at = |tail: &str| format!("/api/v1/warehouse/picklists/{id}{tail}");
    let shown = get(&app, &seller, &at("")).await;
    assert_eq!(shown["current_line"]["seq"], 1);
    assert_eq!(shown["progress"]["total_units"], 4);

    // Wrong bin, wrong item, too many: a clear problem each, and nothing changes.
    let s = |n: u128| uuid::Uuid::from_u128(n).to_string();
    for (body, slug) in [
        (scan(&s(90), "C-09", MUG_GTIN, 1), "wrong-bin"),
        (scan(&s(91), "A-01", TEE_GTIN, 1), "wrong-item"),
        (scan(&s(92), "A-01", MUG_GTIN, 2), "too-many"),
    ] {
        let r = send(&app, &seller, Method::POST, &at("/scan"), Some(body)).await;
        assert_eq!(r.assert_problem(422), slug);
    }
    let unchanged = get(&app, &seller, &at("")).await;
    assert_eq!(unchanged["progress"]["picked_units"], 0);
    assert_eq!(unchanged["version"], shown["version"]);
    assert_eq!(in_bin(&app, &seller, "MUG", "A-01").await, 5);

    // A scan, then the same scan again: applied once, answered the same.
    let one = ok(
        &app,
        &seller,
        Method::POST,
        &at("/scan"),
        scan(&s(1), "a-01", MUG_GTIN, 1),
    )
    .await;
    assert_eq!(one["outcome"], "next");
    assert_eq!(one["next_line"]["seq"], 2);
    let replay = ok(
        &app,
        &seller,
        Method::POST,
        &at("/scan"),
        scan(&s(1), "a-01", MUG_GTIN, 1),
    )
    .await;
    assert_eq!(replay, one);
    assert_eq!(in_bin(&app, &seller, "MUG", "A-01").await, 4);
    let done = ok(
        &app,
        &seller,
        Method::POST,
        &at("/scan"),
        scan(&s(2), "B-01", "tee", 3),
    )
    .await;
    assert_eq!(done["outcome"], "complete");
    assert_eq!(in_bin(&app, &seller, "TEE", "B-01").await, 2);
    let finished = get(&app, &seller, &at("")).await;
    assert_eq!(finished["status"], "complete");
    assert!(finished["current_line"].is_null());
    let late = send(
        &app,
        &seller,
        Method::POST,
        &at("/scan"),
        Some(scan(&s(3), "B-01", "TEE", 1)),
    )
    .await;
    assert_eq!(late.assert_problem(409), "pick-list-complete");

    // The pick task: claim it, start, complete; the queue empties.
    let claimed = ok(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/tasks/claim",
        json!({ "kind": "pick" }),
    )
    .await;
    assert_eq!(claimed["task"]["reference"], format!("picklist:{id}"));
    let task = claimed["task"]["id"].as_str().unwrap().to_owned();
    let mine = get(&app, &seller, "/api/v1/warehouse/tasks/mine").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let early = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/tasks/{task}/complete"),
        None,
    )
    .await;
    assert_eq!(early.assert_problem(409), "illegal-transition");
    for step in ["start", "complete"] {
        ok(
            &app,
            &seller,
            Method::POST,
            &format!("/api/v1/warehouse/tasks/{task}/{step}"),
            json!({}),
        )
        .await;
    }
    assert!(
        get(&app, &seller, "/api/v1/warehouse/tasks/mine").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Packing the first order: the smallest box that holds it is suggested.
    for (code, l, w, h) in [
        ("L", 400, 300, 300),
        ("S", 200, 150, 100),
        ("M", 300, 200, 150),
    ] {
        ok(
            &app,
            &seller,
            Method::POST,
            "/api/v1/boxes",
            json!({ "code": code, "length_mm": l, "width_mm": w, "height_mm": h,
                    "max_weight_g": 10000, "cost": { "amount_minor": 50, "currency": "USD" } }),
        )
        .await;
    }
    let dup_box = send(
        &app,
        &seller,
        Method::POST,
        "/api/v1/boxes",
        Some(json!({
        "code": "m", "length_mm": 1, "width_mm": 1, "height_mm": 1, "max_weight_g": 1,
        "cost": { "amount_minor": 1, "currency": "USD" } })),
    )
    .await;
    assert_eq!(dup_box.assert_problem(409), "duplicate-box");
    let session = ok(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/pack-sessions",
        json!({ "order_id": first }),
    )
    .await;
    assert_eq!(session["suggested"]["box"]["code"], "M", "{session}");
    assert_eq!(session["remaining_total"], 3);
    let sid = session["id"].as_str().unwrap().to_owned();
    let reopened = send(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/pack-sessions",
        Some(json!({ "order_id": first })),
    )
    .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
    assert_eq!(reopened.body["id"], sid.as_str());
    let pack = |tail: &str| format!("/api/v1/warehouse/pack-sessions/{sid}{tail}");
    let pscan = |id: u128, barcode: &str, q: u32| json!({ "scan_id": s(id), "barcode": barcode, "quantity": q });

    let wrong = send(
        &app,
        &seller,
        Method::POST,
        &pack("/scan"),
        Some(pscan(10, "CAP", 1)),
    )
    .await;
    assert_eq!(wrong.assert_problem(422), "wrong-item");
    let unfinished = send(
        &app,
        &seller,
        Method::POST,
        &pack("/finish"),
        Some(json!({ "box": "M", "weight_g": 800 })),
    )
    .await;
    assert_eq!(unfinished.assert_problem(409), "not-all-scanned");
    let tees = ok(
        &app,
        &seller,
        Method::POST,
        &pack("/scan"),
        pscan(11, TEE_GTIN, 2),
    )
    .await;
    assert_eq!(tees["remaining_total"], 1);
    let tees_again = ok(
        &app,
        &seller,
        Method::POST,
        &pack("/scan"),
        pscan(11, TEE_GTIN, 2),
    )
    .await;
    assert_eq!(tees_again, tees);
    ok(
        &app,
        &seller,
        Method::POST,
        &pack("/scan"),
        pscan(12, "mug", 1),
    )
    .await;
    let progress = get(&app, &seller, &pack("")).await;
    assert_eq!(progress["remaining_total"], 0);
    let packed = ok(
        &app,
        &seller,
        Method::POST,
        &pack("/finish"),
        json!({ "box": "m", "weight_g": 800, "buy_label": true }),
    )
    .await;
    assert_eq!(packed["order_status"], "packed");
    // This seller has no carrier nor a ship-from address: the packing stands, and the answer
    // says why no label was bought.
    assert!(packed["label"].is_null());
    assert!(
        packed["label_error"]["type"]
            .as_str()
            .unwrap()
            .ends_with("/label-not-bought"),
        "{packed}"
    );
    assert!(
        packed["label_error"]["detail"]
            .as_str()
            .unwrap()
            .contains("the order is packed"),
        "{packed}"
    );
    assert_eq!(packed["session"]["box"], "M");
    assert_eq!(packed["session"]["weight_g"], 800);
    assert_eq!(
        order_status(&app, &seller, &first).await["status"],
        "packed"
    );

    // Another tenant's ids are not found.
    for path in [at(""), pack("")] {
        let r = send(&app, &other, Method::GET, &path, None).await;
        assert_eq!(r.assert_problem(404), "not-found", "{path}");
    }
    let r = send(
        &app,
        &other,
        Method::POST,
        &at("/scan"),
        Some(scan(&s(50), "A-01", MUG_GTIN, 1)),
    )
    .await;
    assert_eq!(r.assert_problem(404), "not-found");
    let r = send(
        &app,
        &other,
        Method::POST,
        &pack("/scan"),
        Some(pscan(51, "TEE", 1)),
    )
    .await;
    assert_eq!(r.assert_problem(404), "not-found");
}

/// TEE: 3 in MAIN bin A-01, an order for 3 picked from there; `found` units are found.
async fn short_setup(app: &TestApp, seller: &Seller) -> (String, String) {
    product(app, seller, "TEE", TEE_GTIN, [300, 200, 20, 200]).await;
    app.set_stock(seller, "TEE", 3).await;
    bin(app, seller, "MAIN", "A-01", 1).await;
    assert_eq!(
        put_away(app, seller, "A-01", "TEE", 3).await.status,
        StatusCode::OK
    );
    let order = place(app, seller, &[("TEE", 3)]).await;
    let created = ok(
        app,
        seller,
        Method::POST,
        "/api/v1/warehouse/picklists",
        json!({ "wave": { "warehouse": "MAIN", "max_orders": 10 } }),
    )
    .await;
    assert_eq!(created["items"].as_array().unwrap().len(), 1, "{created}");
    let list = created["items"][0]["id"].as_str().unwrap().to_owned();
    let picked = ok(
        app,
        seller,
        Method::POST,
        &format!("/api/v1/warehouse/picklists/{list}/scan"),
        scan(&uuid::Uuid::now_v7().to_string(), "A-01", "TEE", 1),
    )
    .await;
    assert_eq!(picked["outcome"], "next");
    (order, list)
}

fn by_warehouse(stock: &Value, code: &str, field: &str) -> i64 {
    stock["by_warehouse"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["warehouse"] == code)
        .map_or(0, |w| w[field].as_i64().unwrap())
}

async fn a_short_pick_backorders_the_line_and_reallocates_it_from_a_second_warehouse(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Short Co").await;
    let (order, list) = short_setup(&app, &seller).await;
    ok(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouses",
        json!({ "code": "EAST", "name": "East" }),
    )
    .await;
    ok(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/inventory/TEE/quantity",
        json!({ "on_hand": 5, "reason": "initial stock", "warehouse": "EAST" }),
    )
    .await;

    let not_short = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/picklists/{list}/short"),
        Some(json!({ "seq": 1, "found": 3 })),
    )
    .await;
    assert_eq!(not_short.assert_problem(422), "not-short");
    let short = ok(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/picklists/{list}/short"),
        json!({ "seq": 1, "found": 1 }),
    )
    .await;
    assert_eq!(short["missing"], 2);
    assert_eq!(short["affected"][0]["order_id"], order.as_str());
    assert_eq!(short["affected"][0]["quantity"], 2);
    assert_eq!(short["affected"][0]["backordered"], 0, "{short}");
    assert_eq!(short["pick_list"]["status"], "complete");

    // The missing units left MAIN's bin and on hand; EAST now holds them for the order.
    assert_eq!(in_bin(&app, &seller, "TEE", "A-01").await, 0);
    let stock = app.stock(&seller, "TEE").await;
    assert_eq!(by_warehouse(&stock, "MAIN", "on_hand"), 1);
    assert_eq!(by_warehouse(&stock, "MAIN", "reserved"), 1);
    assert_eq!(by_warehouse(&stock, "EAST", "reserved"), 2);
    let o = order_status(&app, &seller, &order).await;
    assert_eq!(o["status"], "picking");
    let movements = get(&app, &seller, "/api/v1/inventory/TEE/movements").await;
    assert!(
        movements.to_string().contains("short pick in bin A-01"),
        "{movements}"
    );
}

async fn a_short_pick_with_no_stock_elsewhere_leaves_the_line_backordered(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Short Two").await;
    let (order, list) = short_setup(&app, &seller).await;
    let short = ok(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/picklists/{list}/short"),
        json!({ "seq": 1, "found": 1 }),
    )
    .await;
    assert_eq!(short["affected"][0]["backordered"], 2, "{short}");
    let stock = app.stock(&seller, "TEE").await;
    assert_eq!(by_warehouse(&stock, "MAIN", "on_hand"), 1);
    assert_eq!(by_warehouse(&stock, "MAIN", "reserved"), 1);
    let o = order_status(&app, &seller, &order).await;
    assert_eq!(o["status"], "picking");
    assert_eq!(o["lines"][0]["allocated"], 1, "{o}");
}
