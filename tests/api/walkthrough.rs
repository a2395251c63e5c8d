use crate::on_both_databases;
use e2e::{order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::Backend;

on_both_databases!(
    a_seller_goes_from_signup_to_a_cancelled_order,
    health_and_readiness_need_no_key,
);

async fn a_seller_goes_from_signup_to_a_cancelled_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Acme Socks").await;
    assert!(seller.api_key.starts_with("tote_sk_"));

    let product = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&seller.api_key),
            Some(json!({
                "sku": "SOCK-RED-M", "name": "Red socks, M", "barcode": "4006381333931",
                "weight_grams": 120, "unit_cost": { "amount_minor": 250, "currency": "USD" }
            })),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
    assert_eq!(
        product.header("location"),
        Some("/api/v1/products/SOCK-RED-M")
    );
    let fetched = app
        .call(
            Method::GET,
            "/api/v1/products/SOCK-RED-M",
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(fetched.body["unit_cost"]["amount_minor"], 250);

    let stock = app.set_stock(&seller, "SOCK-RED-M", 10).await;
    assert_eq!(stock.status, StatusCode::OK, "{}", stock.body);
    assert_eq!(stock.body["available"], 10);
    assert_eq!(stock.header("etag"), Some("\"2\""));

    let placed = app
        .place_order(&seller, order_body(&[("SOCK-RED-M", 3)]))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["status"], "allocated");
    assert_eq!(placed.body["total"]["amount_minor"], 3 * 1999);
    assert_eq!(placed.body["lines"][0]["allocated"], 3);
    let id = placed.body["id"].as_str().unwrap().to_owned();
    let level = app.stock(&seller, "SOCK-RED-M").await;
    assert_eq!(
        (
            level["on_hand"].clone(),
            level["reserved"].clone(),
            level["available"].clone()
        ),
        (json!(10), json!(3), json!(7))
    );

    let listed = app
        .call(
            Method::GET,
            "/api/v1/orders?status=allocated",
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(listed.body["items"][0]["id"], id.as_str());

    let cancelled = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{id}/cancel"),
            Some(&seller.api_key),
            Some(json!({ "reason": "customer changed their mind" })),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    let level = app.stock(&seller, "SOCK-RED-M").await;
    assert_eq!(
        (level["reserved"].clone(), level["available"].clone()),
        (json!(0), json!(10))
    );

    let again = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{id}/cancel"),
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(again.assert_problem(409), "illegal-transition");

    // Every change left its event in the outbox, and the in-process relay handed each on.
    let tenant = seller.tenant_id.parse().unwrap();
    let mut published = false;
    for _ in 0..200 {
        let events = app.db.store.events_of(tenant).await.unwrap();
        let types: Vec<_> = events.iter().map(|e| e.event.event_type.as_str()).collect();
        assert_eq!(
            types,
            vec!["inventory.changed", "order.created", "order.cancelled"]
        );
        if events.iter().all(|e| e.published_at.is_some()) {
            published = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(published, "the relay should mark every event published");
    // The in-process consumers saw them: the orders-per-day read model counts both.
    let rows = app.db.store.daily_orders(tenant).await.unwrap();
    assert_eq!(rows.len(), 1);
    let (_, channel, created, cancelled, revenue) = &rows[0];
    assert_eq!(
        (channel.as_str(), *created, *cancelled, *revenue),
        ("api", 1, 1, 3 * 1999)
    );
}

async fn health_and_readiness_need_no_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.call(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = app.call(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["checks"]["database"], "ok");
    assert_eq!(ready.body["checks"]["broker"], "not configured");
    // With a broker configured, readiness follows it.
    let amqp = std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let with_broker = e2e::spawn_app_with(backend, &[("AMQP_URL", amqp.as_str())]).await;
    let ready = with_broker.call(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["checks"]["broker"], "ok");
    let dead_broker = e2e::spawn_app_with(
        backend,
        &[("AMQP_URL", "amqp://guest:guest@127.0.0.1:1/%2f")],
    )
    .await;
    let ready = dead_broker.call(Method::GET, "/ready", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.body
    );
    assert_eq!(ready.body["checks"]["broker"], "unreachable");
    assert_eq!(ready.body["checks"]["database"], "ok");
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/signup",
        "/api/v1/products",
        "/api/v1/inventory/{sku}/quantity",
        "/api/v1/orders",
        "/api/v1/orders/{id}/cancel",
        "/api/v1/events/stream",
    ] {
        assert!(
            doc.body["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
}
