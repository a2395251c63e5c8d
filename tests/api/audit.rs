//! The audit log, tenant export and customer erasure over HTTP.

use crate::on_both_databases;
use e2e::{order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(
    every_state_changing_call_is_audited_and_the_log_filters_and_pages,
    the_export_streams_the_tenants_data_without_secrets_and_erasure_keeps_totals,
);

async fn audit(app: &e2e::TestApp, token: &str, query: &str) -> Value {
    let reply = app
        .call(
            Method::GET,
            &format!("/api/v1/audit{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn every_state_changing_call_is_audited_and_the_log_filters_and_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (seller, owner) = app.signup_owner("Acme", "owner@acme.example").await;
    app.create_product(&seller, "SKU-1").await;
    app.set_stock(&seller, "SKU-1", 5).await;
    let order = app.place_order(&seller, order_body(&[("SKU-1", 1)])).await;
    let id = order.body["id"].as_str().unwrap();
    let missing = uuid::Uuid::now_v7();
    app.call(
        Method::POST,
        &format!("/api/v1/orders/{missing}/cancel"),
        Some(&seller.api_key),
        Some(json!({})),
    )
    .await;
    app.call(Method::GET, "/api/v1/orders", Some(&seller.api_key), None)
        .await;
    let guess = app
        .try_login("owner@acme.example", "not the password")
        .await;
    assert_eq!(guess.status, StatusCode::UNAUTHORIZED);

    // signup, login, product, stock, order, failed cancel, failed login: 7 (reads are not
    // audited).
    let mut body = json!(null);
    for _ in 0..50 {
        body = audit(&app, &owner.access, "").await;
        if body["items"].as_array().unwrap().len() >= 7 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let items = body["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "POST /api/v1/auth/login",
            "POST /api/v1/orders/{id}/cancel",
            "POST /api/v1/orders",
            "PUT /api/v1/inventory/{sku}/quantity",
            "POST /api/v1/products",
            "POST /api/v1/auth/login",
            "POST /api/v1/signup",
        ]
    );
    assert_eq!(
        items[0]["outcome"], 401,
        "a failed login is on the tenant's record"
    );
    assert!(items[0]["actor"].as_str().unwrap().starts_with("ip:"));
    assert_eq!(items[1]["outcome"], 404);
    assert_eq!(items[2]["outcome"], 201);
    assert!(items[2]["actor"].as_str().unwrap().starts_with("api_key:"));
    assert!(items[5]["actor"].as_str().unwrap().starts_with("user:"));
    assert!(
        items[2]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let _ = id;

    let failed = audit(&app, &owner.access, "?failed=true").await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 2);
    let orders = audit(&app, &owner.access, "?action=POST%20/api/v1/orders").await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 2);
    let first = audit(&app, &owner.access, "?limit=4").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = audit(&app, &owner.access, &format!("?limit=4&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 3);
    assert!(second["next_cursor"].is_null());
    let bad = app
        .call(
            Method::GET,
            "/api/v1/audit?limit=abc",
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let huge = audit(&app, &owner.access, "?limit=100000").await;
    assert!(huge["items"].as_array().unwrap().len() <= 200);
}

async fn the_export_streams_the_tenants_data_without_secrets_and_erasure_keeps_totals(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (seller, owner) = app.signup_owner("Acme", "owner@acme.example").await;
    let other = app.signup("Other").await;
    app.create_product(&seller, "SKU-1").await;
    app.create_product(&other, "THEIRS").await;
    app.set_stock(&seller, "SKU-1", 5).await;
    let mut body = order_body(&[("SKU-1", 2)]);
    body["ship_to"]["email"] = json!("Ada@Example.com");
    body["ship_to"]["phone"] = json!("+44 20 7946 0000");
    let order = app.place_order(&seller, body).await;
    let id = order.body["id"].as_str().unwrap().to_owned();
    app.place_order(&seller, order_body(&[("SKU-1", 1)])).await;

    let export = app
        .call(
            Method::GET,
            "/api/v1/tenant/export",
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.body["tenant_id"], seller.tenant_id.as_str());
    assert_eq!(export.body["products"].as_array().unwrap().len(), 1);
    assert_eq!(export.body["orders"].as_array().unwrap().len(), 2);
    assert_eq!(export.body["order_lines"].as_array().unwrap().len(), 2);
    assert_eq!(export.body["users"].as_array().unwrap().len(), 1);
    let text = export.body.to_string();
    for secret in [
        "password_hash",
        "\"hash\"",
        "totp_secret",
        "argon2",
        "THEIRS",
    ] {
        assert!(!text.contains(secret), "export contains {secret}");
    }

    let erase = app
        .call(
            Method::POST,
            "/api/v1/customers/erase",
            Some(&owner.access),
            Some(json!({ "email": "ada@example.com" })),
        )
        .await;
    assert_eq!(erase.status, StatusCode::OK, "{}", erase.body);
    assert_eq!(erase.body["orders_anonymised"], 1);
    let after = app
        .call(
            Method::GET,
            &format!("/api/v1/orders/{id}"),
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(after.status, StatusCode::OK);
    let text = after.body.to_string();
    assert!(
        !text.contains("Ada") && !text.contains("7946") && !text.contains("St James"),
        "{text}"
    );
    assert_eq!(after.body["total"], order.body["total"]);
    assert_eq!(after.body["lines"], order.body["lines"]);
    let bad = app
        .call(
            Method::POST,
            "/api/v1/customers/erase",
            Some(&owner.access),
            Some(json!({ "email": "" })),
        )
        .await;
    assert_eq!(bad.assert_problem(400), "validation-error");
}
