use crate::on_both_databases;
use e2e::{order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::Backend;

on_both_databases!(
    two_hundred_concurrent_orders_for_fifty_units_allocate_exactly_fifty,
    without_backorder_a_short_order_is_refused_and_nothing_is_written,
    an_idempotency_key_replays_the_same_order_and_refuses_another_body,
    a_channel_sending_the_same_order_twice_gets_the_first_back,
    a_stale_if_match_is_refused,
);

async fn two_hundred_concurrent_orders_for_fifty_units_allocate_exactly_fifty(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let seller = app.signup("Flash Sale Ltd").await;
    app.create_product(&seller, "HOT-ITEM").await;
    app.set_stock(&seller, "HOT-ITEM", 50).await;

    let requests = (0..200).map(|_| {
        let (app, seller) = (app.clone(), seller.clone());
        tokio::spawn(async move {
            app.place_order(&seller, order_body(&[("HOT-ITEM", 1)]))
                .await
        })
    });
    let mut allocated = 0;
    let mut backordered = 0;
    for reply in futures::future::join_all(requests).await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        match reply.body["status"].as_str().unwrap() {
            "allocated" => allocated += 1,
            "backordered" => backordered += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((allocated, backordered), (50, 150));
    let level = app.stock(&seller, "HOT-ITEM").await;
    assert_eq!(level["on_hand"], 50);
    assert_eq!(level["reserved"], 50);
    assert_eq!(level["available"], 0);
}

async fn without_backorder_a_short_order_is_refused_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Strict Co").await;
    for (sku, qty) in [("A", 5), ("B", 1)] {
        app.create_product(&seller, sku).await;
        app.set_stock(&seller, sku, qty).await;
    }
    let mut body = order_body(&[("A", 2), ("B", 3)]);
    body["allow_backorder"] = json!(false);
    let refused = app.place_order(&seller, body).await;
    assert_eq!(refused.assert_problem(409), "insufficient-stock");
    assert_eq!(refused.body["shortages"][0]["sku"], "B");
    assert_eq!(refused.body["shortages"][0]["available"], 1);
    assert_eq!(app.stock(&seller, "A").await["reserved"], 0);
    let orders = app
        .call(Method::GET, "/api/v1/orders", Some(&seller.api_key), None)
        .await;
    assert_eq!(orders.body["items"], json!([]));
}

async fn an_idempotency_key_replays_the_same_order_and_refuses_another_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Retry Co").await;
    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 10).await;
    let send = |body: serde_json::Value| {
        app.raw(
            app.client
                .post(app.url("/api/v1/orders"))
                .bearer_auth(&seller.api_key)
                .header("Idempotency-Key", "order-7f3a")
                .json(&body),
        )
    };
    let first = send(order_body(&[("A", 2)])).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = send(order_body(&[("A", 2)])).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body["id"], first.body["id"]);
    let other = send(order_body(&[("A", 3)])).await;
    assert_eq!(other.assert_problem(422), "idempotency-key-reused");
    assert_eq!(app.stock(&seller, "A").await["reserved"], 2);
}

async fn a_channel_sending_the_same_order_twice_gets_the_first_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Channel Co").await;
    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 10).await;
    let mut body = order_body(&[("A", 1)]);
    body["channel"] = json!("shopify");
    body["external_id"] = json!("#1001");
    let first = app.place_order(&seller, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = app.place_order(&seller, body).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["id"], first.body["id"]);
    assert_eq!(app.stock(&seller, "A").await["reserved"], 1);
}

async fn a_stale_if_match_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Counting Co").await;
    app.create_product(&seller, "A").await;
    let set = |version: &str, on_hand: i64| {
        app.raw(
            app.client
                .put(app.url("/api/v1/inventory/A/quantity"))
                .bearer_auth(&seller.api_key)
                .header("If-Match", version)
                .json(&json!({ "on_hand": on_hand, "reason": "cycle count" })),
        )
    };
    let ok = set("\"1\"", 4).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let stale = set("\"1\"", 9).await;
    assert_eq!(stale.assert_problem(409), "version-mismatch");
    assert_eq!(stale.body["current_version"], 2);
    assert_eq!(app.stock(&seller, "A").await["on_hand"], 4);
}
