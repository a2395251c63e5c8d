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
