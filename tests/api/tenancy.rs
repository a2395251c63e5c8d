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

on_both_databases!(another_tenants_webhooks_keys_and_users_answer_404_and_stay_unchanged);

async fn another_tenants_webhooks_keys_and_users_answer_404_and_stay_unchanged(backend: Backend) {
    use identity::ports::{ApiKeyRepository, UserRepository};
    let app = spawn_app(backend).await;
    let (a, a_owner) = app.signup_owner("Tenant A", "owner@a.example").await;
    let (b, b_owner) = app.signup_owner("Tenant B", "owner@b.example").await;
    let hook = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&a.api_key),
            Some(json!({ "url": "https://hooks.example.com/tote", "events": ["order.*"] })),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let hook_id = hook.body["id"].as_str().unwrap().to_owned();
    app.scoped_key(&a, &["orders:read"]).await;
    app.user_with_role(&a_owner, "staff@a.example", "manager")
        .await;
    let tenant_a = kernel::TenantId::from_uuid(a.tenant_id.parse().unwrap());
    let keys = ApiKeyRepository::list(&app.db.store, tenant_a)
        .await
        .unwrap();
    let key_id = keys.iter().find(|k| k.scopes.is_some()).unwrap().id;
    let users = UserRepository::list(&app.db.store, tenant_a).await.unwrap();
    let user_id = users
        .iter()
        .find(|u| u.email == "staff@a.example")
        .unwrap()
        .id;
    let random = uuid::Uuid::now_v7();

    let attempts = [
        (
            Method::GET,
            format!("/api/v1/webhooks/{hook_id}/deliveries"),
            None,
        ),
        (Method::DELETE, format!("/api/v1/webhooks/{hook_id}"), None),
        (
            Method::POST,
            format!("/api/v1/webhooks/{hook_id}/deliveries/{random}/replay"),
            None,
        ),
        (Method::DELETE, format!("/api/v1/api-keys/{key_id}"), None),
        (Method::GET, format!("/api/v1/users/{user_id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{user_id}"),
            Some(json!({ "active": false })),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{user_id}"),
            Some(json!({ "role": "viewer" })),
        ),
    ];
    for token in [&b.api_key, &b_owner.access] {
        for (method, path, body) in &attempts {
            let reply = app
                .call(method.clone(), path, Some(token), body.clone())
                .await;
            assert_eq!(reply.assert_problem(404), "not-found", "{method} {path}");
        }
    }
    // Nothing changed, checked in the database.
    let subs = app.db.store.subscriptions(tenant_a).await.unwrap();
    assert_eq!(subs.len(), 1);
    let keys_after = ApiKeyRepository::list(&app.db.store, tenant_a)
        .await
        .unwrap();
    assert!(keys_after.iter().all(|k| k.revoked_at.is_none()));
    let user = UserRepository::get(&app.db.store, tenant_a, user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(user.active);
    assert_eq!(user.role, identity::Role::Manager);
    // And B's lists show none of A's things. (B's audit log names the ids B itself sent.)
    for path in ["/api/v1/webhooks", "/api/v1/users", "/api/v1/api-keys"] {
        let reply = app
            .call(Method::GET, path, Some(&b_owner.access), None)
            .await;
        let text = reply.body.to_string();
        assert!(
            !text.contains("a.example") && !text.contains(&hook_id),
            "{path} leaks: {text}"
        );
    }
}
