use crate::on_both_databases;
use e2e::{order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::Backend;

on_both_databases!(another_tenant_gets_404_for_everything_and_changes_nothing);

async fn another_tenant_gets_404_for_everything_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.signup("Tenant A").await;
    let b = app.signup("Tenant B").await;
    app.create_product(&a, "SECRET").await;
    app.set_stock(&a, "SECRET", 5).await;
    let order = app.place_order(&a, order_body(&[("SECRET", 1)])).await;
    let id = order.body["id"].as_str().unwrap();

    let attempts = [
        (Method::GET, format!("/api/v1/orders/{id}"), None),
        (Method::POST, format!("/api/v1/orders/{id}/cancel"), None),
        (Method::GET, "/api/v1/products/SECRET".to_owned(), None),
        (Method::GET, "/api/v1/inventory/SECRET".to_owned(), None),
        (
            Method::PUT,
            "/api/v1/inventory/SECRET/quantity".to_owned(),
            Some(json!({ "on_hand": 0, "reason": "sabotage" })),
        ),
    ];
    for (method, path, body) in attempts {
        let reply = app
            .call(method.clone(), &path, Some(&b.api_key), body)
            .await;
        assert_eq!(reply.assert_problem(404), "not-found", "{method} {path}");
    }
    let lists = ["/api/v1/orders", "/api/v1/products", "/api/v1/inventory"];
    for path in lists {
        let reply = app.call(Method::GET, path, Some(&b.api_key), None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["items"], json!([]), "{path} leaks");
    }
    // A's world is untouched.
    let level = app.stock(&a, "SECRET").await;
    assert_eq!(
        (level["on_hand"].clone(), level["reserved"].clone()),
        (json!(5), json!(1))
    );
    let still = app
        .call(
            Method::GET,
            &format!("/api/v1/orders/{id}"),
            Some(&a.api_key),
            None,
        )
        .await;
    assert_eq!(still.body["status"], "allocated");
}
