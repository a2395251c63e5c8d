use crate::on_both_databases;
use e2e::{order_body, spawn_app};
use reqwest::Method;
use serde_json::json;
use testkit::Backend;

async fn call(
    app: &e2e::TestApp,
    seller: &e2e::Seller,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> e2e::Reply {
    app.call(method, path, Some(&seller.api_key), body).await
}

on_both_databases!(
    stock_lives_per_warehouse_and_orders_take_it_from_where_it_is,
    a_kit_is_as_available_as_its_components_and_reserves_them,
    a_checkout_hold_reserves_all_or_nothing_and_becomes_the_orders_reservation,
    receipts_move_the_average_cost_and_the_valuation_adds_up,
    a_transfer_leaves_the_source_and_arrives_as_incoming_then_on_hand,
    products_update_with_if_match_archive_and_search,
    a_csv_import_is_all_or_nothing_unless_best_effort_and_exports_back,
    replenishment_and_the_ledger_check_answer_for_the_tenants_stock,
);

async fn stock_lives_per_warehouse_and_orders_take_it_from_where_it_is(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Two Sheds Ltd").await;
    let listed = call(&app, &seller, Method::GET, "/api/v1/warehouses", None).await;
    assert_eq!(
        listed.body["items"][0]["code"], "MAIN",
        "signup opens a default warehouse"
    );
    let east = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouses",
        Some(json!({ "code": "east", "name": "East shed" })),
    )
    .await;
    assert_eq!(east.status.as_u16(), 201, "{}", east.body);
    assert_eq!(east.body["code"], "EAST");
    let dup = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouses",
        Some(json!({ "code": "EAST", "name": "x" })),
    )
    .await;
    assert_eq!(dup.assert_problem(409), "duplicate-warehouse");

    app.create_product(&seller, "MUG").await;
    app.set_stock(&seller, "MUG", 2).await;
    let put = call(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/inventory/MUG/quantity",
        Some(json!({ "on_hand": 5, "reason": "initial stock", "warehouse": "EAST" })),
    )
    .await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.body);
    let stock = app.stock(&seller, "MUG").await;
    assert_eq!(stock["on_hand"], 7);
    assert_eq!(stock["by_warehouse"].as_array().unwrap().len(), 2);

    // 6 units: no single warehouse has them, so the order is split (2 from MAIN, 4 from EAST).
    let order = app.place_order(&seller, order_body(&[("MUG", 6)])).await;
    assert_eq!(order.body["status"], "allocated", "{}", order.body);
    let stock = app.stock(&seller, "MUG").await;
    assert_eq!(stock["reserved"], 6);
    let by: Vec<(String, u64)> = stock["by_warehouse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["warehouse"].as_str().unwrap().to_owned(),
                w["reserved"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by, [("MAIN".to_owned(), 2), ("EAST".to_owned(), 4)]);

    // Cancelling gives each warehouse back exactly what it gave.
    let id = order.body["id"].as_str().unwrap();
    let cancel = call(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{id}/cancel"),
        Some(json!({})),
    )
    .await;
    assert_eq!(cancel.status.as_u16(), 200, "{}", cancel.body);
    assert_eq!(app.stock(&seller, "MUG").await["reserved"], 0);

    let moves = call(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/MUG/movements",
        None,
    )
    .await;
    let kinds: Vec<&str> = moves.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "release",
            "release",
            "reservation",
            "reservation",
            "count",
            "count"
        ]
    );
}

async fn a_kit_is_as_available_as_its_components_and_reserves_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Gift Boxes Ltd").await;
    for (sku, on_hand) in [("MUG", 5), ("TEA", 10)] {
        app.create_product(&seller, sku).await;
        app.set_stock(&seller, sku, on_hand).await;
    }
    let kit = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/products",
        Some(json!({
            "sku": "GIFT", "name": "Gift box",
            "components": [{ "sku": "MUG", "quantity": 2 }, { "sku": "TEA", "quantity": 1 }]
        })),
    )
    .await;
    assert_eq!(kit.status.as_u16(), 201, "{}", kit.body);
    let stock = app.stock(&seller, "GIFT").await;
    assert_eq!(
        (stock["is_kit"].clone(), stock["available"].clone()),
        (json!(true), json!(2))
    );

    // A kit line and a mug line share the mugs: together they never take more than 5.
    let order = app
        .place_order(&seller, order_body(&[("GIFT", 2), ("MUG", 3)]))
        .await;
    assert_eq!(
        order.body["status"], "partially_allocated",
        "{}",
        order.body
    );
    assert_eq!(order.body["lines"][0]["allocated"], 2);
    assert_eq!(order.body["lines"][1]["allocated"], 1);
    assert_eq!(app.stock(&seller, "MUG").await["reserved"], 5);
    assert_eq!(app.stock(&seller, "TEA").await["reserved"], 2);
    assert_eq!(app.stock(&seller, "GIFT").await["available"], 0);
}

async fn a_checkout_hold_reserves_all_or_nothing_and_becomes_the_orders_reservation(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Checkout Co").await;
    app.create_product(&seller, "CAP").await;
    app.set_stock(&seller, "CAP", 3).await;

    let short = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/reservations",
        Some(json!({ "lines": [{ "sku": "CAP", "quantity": 4 }] })),
    )
    .await;
    assert_eq!(short.assert_problem(409), "insufficient-stock");
    assert_eq!(
        app.stock(&seller, "CAP").await["reserved"],
        0,
        "a refused hold holds nothing"
    );

    let hold = call(&app, &seller, Method::POST, "/api/v1/reservations",
            Some(json!({ "lines": [{ "sku": "CAP", "quantity": 2 }], "ttl_seconds": 600, "reference": "cart-9" })),
        )
        .await;
    assert_eq!(hold.status.as_u16(), 201, "{}", hold.body);
    assert_eq!(app.stock(&seller, "CAP").await["available"], 1);
    let id = hold.body["id"].as_str().unwrap().to_owned();

    // An order with other lines cannot take the hold.
    let mut wrong = order_body(&[("CAP", 1)]);
    wrong["reservation_id"] = json!(id);
    let refused = app.place_order(&seller, wrong).await;
    assert_eq!(refused.assert_problem(409), "reservation-unusable");

    let mut body = order_body(&[("CAP", 2)]);
    body["reservation_id"] = json!(id);
    let order = app.place_order(&seller, body).await;
    assert_eq!(order.body["status"], "allocated", "{}", order.body);
    let stock = app.stock(&seller, "CAP").await;
    assert_eq!(
        (stock["reserved"].clone(), stock["available"].clone()),
        (json!(2), json!(1))
    );
    let confirmed = call(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/reservations/{id}"),
        None,
    )
    .await;
    assert_eq!(confirmed.body["status"], "confirmed");

    // Cancelling the order releases what the hold had reserved.
    let order_id = order.body["id"].as_str().unwrap();
    call(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/cancel"),
        Some(json!({})),
    )
    .await;
    assert_eq!(app.stock(&seller, "CAP").await["reserved"], 0);

    let again = call(
        &app,
        &seller,
        Method::DELETE,
        &format!("/api/v1/reservations/{id}"),
        None,
    )
    .await;
    assert_eq!(again.assert_problem(409), "illegal-transition");
}

async fn receipts_move_the_average_cost_and_the_valuation_adds_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Costly Ltd").await;
    app.create_product(&seller, "TEA").await;
    for cost in [100, 200] {
        let r = call(&app, &seller, Method::POST, "/api/v1/receipts", Some(json!({
            "reference": "PO-1",
            "lines": [{ "sku": "TEA", "quantity": 10, "unit_cost": { "amount_minor": cost, "currency": "EUR" } }]
        }))).await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    }
    let product = call(&app, &seller, Method::GET, "/api/v1/products/TEA", None).await;
    // (10 × 100 + 10 × 200) / 20 = 150
    assert_eq!(
        product.body["average_cost"],
        json!({ "amount_minor": 150, "currency": "EUR" })
    );
    let value = call(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/valuation",
        None,
    )
    .await;
    let report = &value.body["reports"][0];
    assert_eq!(report["total"]["amount_minor"], 3000, "{}", value.body);
    assert_eq!(report["warehouses"][0]["warehouse"], "MAIN");

    let bad = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/receipts",
        Some(json!({
            "lines": [{ "sku": "TEA", "quantity": 0 }, { "sku": "NOPE", "quantity": 1 }]
        })),
    )
    .await;
    bad.assert_problem(400);
    assert_eq!(
        app.stock(&seller, "TEA").await["on_hand"],
        20,
        "a refused receipt changes nothing"
    );
}

async fn a_transfer_leaves_the_source_and_arrives_as_incoming_then_on_hand(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Mover Ltd").await;
    call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouses",
        Some(json!({ "code": "EAST", "name": "East" })),
    )
    .await;
    app.create_product(&seller, "BOX").await;
    app.set_stock(&seller, "BOX", 10).await;

    let too_many = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/transfers",
        Some(json!({
            "from": "MAIN", "to": "EAST", "lines": [{ "sku": "BOX", "quantity": 11 }]
        })),
    )
    .await;
    assert_eq!(too_many.assert_problem(409), "insufficient-stock");
    assert_eq!(app.stock(&seller, "BOX").await["on_hand"], 10);

    let t = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/transfers",
        Some(json!({
            "from": "MAIN", "to": "east", "lines": [{ "sku": "BOX", "quantity": 4 }]
        })),
    )
    .await;
    assert_eq!(t.status.as_u16(), 201, "{}", t.body);
    assert_eq!(t.body["status"], "in_transit");
    let stock = app.stock(&seller, "BOX").await;
    assert_eq!(
        (stock["on_hand"].clone(), stock["incoming"].clone()),
        (json!(6), json!(4))
    );

    let id = t.body["id"].as_str().unwrap();
    let path = format!("/api/v1/transfers/{id}/receive");
    let received = call(&app, &seller, Method::POST, &path, None).await;
    assert_eq!(received.body["status"], "received", "{}", received.body);
    let stock = app.stock(&seller, "BOX").await;
    assert_eq!(
        (stock["on_hand"].clone(), stock["incoming"].clone()),
        (json!(10), json!(0))
    );
    let again = call(&app, &seller, Method::POST, &path, None).await;
    assert_eq!(again.assert_problem(409), "illegal-transition");
}

async fn products_update_with_if_match_archive_and_search(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Catalogue Ltd").await;
    app.create_product(&seller, "RED-MUG").await;
    app.create_product(&seller, "BLUE-CUP").await;

    let stale = app
        .raw(
            app.client
                .patch(app.url("/api/v1/products/RED-MUG"))
                .bearer_auth(&seller.api_key)
                .header("If-Match", "\"7\"")
                .json(&json!({ "name": "Red mug XL" })),
        )
        .await;
    assert_eq!(stale.assert_problem(409), "version-mismatch");
    let ok = app
        .raw(
            app.client
                .patch(app.url("/api/v1/products/RED-MUG"))
                .bearer_auth(&seller.api_key)
                .header("If-Match", "\"1\"")
                .json(&json!({ "name": "Red mug XL", "low_stock_threshold": 3, "barcode": null })),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.body);
    assert_eq!(
        (
            ok.body["version"].clone(),
            ok.body["low_stock_threshold"].clone()
        ),
        (json!(2), json!(3))
    );
    let sneaky = call(
        &app,
        &seller,
        Method::PATCH,
        "/api/v1/products/RED-MUG",
        Some(json!({ "sku": "X" })),
    )
    .await;
    sneaky.assert_problem(400);

    let found = call(
        &app,
        &seller,
        Method::GET,
        "/api/v1/products?search=mug",
        None,
    )
    .await;
    let skus: Vec<&str> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["RED-MUG"]);

    let archived = call(
        &app,
        &seller,
        Method::DELETE,
        "/api/v1/products/BLUE-CUP",
        None,
    )
    .await;
    assert_eq!(archived.body["active"], false, "{}", archived.body);
    let listed = call(&app, &seller, Method::GET, "/api/v1/products", None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let all = call(
        &app,
        &seller,
        Method::GET,
        "/api/v1/products?include_archived=true",
        None,
    )
    .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let order = app
        .place_order(&seller, order_body(&[("BLUE-CUP", 1)]))
        .await;
    assert_eq!(
        order.assert_problem(422),
        "unknown-sku",
        "an archived product cannot be ordered"
    );
}

async fn a_csv_import_is_all_or_nothing_unless_best_effort_and_exports_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Bulk Ltd").await;
    let csv = "sku,name,barcode,unit_cost_minor,currency\n\
               P-1,First,4006381333931,250,EUR\n\
               P-2,,,,\n\
               P-3,Third,1234,,\n";
    let import = |best: bool| {
        app.raw(
            app.client
                .post(app.url(&format!("/api/v1/catalogue/import?best_effort={best}")))
                .bearer_auth(&seller.api_key)
                .header("Content-Type", "text/csv")
                .body(csv),
        )
    };
    let strict = import(false).await;
    assert_eq!(strict.status.as_u16(), 422, "{}", strict.body);
    assert_eq!(strict.body["created"], 0);
    let lines: Vec<u64> = strict.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4], "{}", strict.body);
    let listed = call(&app, &seller, Method::GET, "/api/v1/products", None).await;
    assert!(
        listed.body["items"].as_array().unwrap().is_empty(),
        "nothing half-imported"
    );

    let lenient = import(true).await;
    assert_eq!(lenient.body["created"], 1, "{}", lenient.body);
    let export = app
        .raw(
            app.client
                .get(app.url("/api/v1/catalogue/export"))
                .bearer_auth(&seller.api_key),
        )
        .await;
    assert_eq!(export.status.as_u16(), 200);
    let text = export.body.as_str().unwrap_or_default().to_owned();
    assert!(text.starts_with("sku,name,"), "{text}");
    assert!(text.contains("P-1,First,4006381333931"), "{text}");
}

async fn replenishment_and_the_ledger_check_answer_for_the_tenants_stock(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Planner Ltd").await;
    app.create_product(&seller, "FAST").await;
    app.set_stock(&seller, "FAST", 5).await;
    app.create_product(&seller, "IDLE").await;
    app.set_stock(&seller, "IDLE", 100).await;
    app.place_order(&seller, order_body(&[("FAST", 5)])).await;

    let advice = call(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/replenishment?lead_time_days=7",
        None,
    )
    .await;
    assert_eq!(advice.status.as_u16(), 200, "{}", advice.body);
    let by_sku = |sku: &str| {
        advice.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["sku"] == sku)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_sku("FAST")["should_reorder"], true, "{}", advice.body);
    assert!(
        by_sku("FAST")["reason"]
            .as_str()
            .unwrap()
            .contains("reorder point")
    );
    assert_eq!(by_sku("IDLE")["should_reorder"], false);
    let bad = call(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/replenishment?history_days=1",
        None,
    )
    .await;
    bad.assert_problem(400);

    let check = call(&app, &seller, Method::POST, "/api/v1/ledger/rebuild", None).await;
    assert_eq!(check.body["drift"], json!([]), "{}", check.body);
    assert!(check.body["levels_checked"].as_u64().unwrap() >= 2);
}
