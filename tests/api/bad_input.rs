use e2e::{order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::Backend;

/// Every kind of bad input gets a 4xx problem+json and changes nothing; never a 5xx.
#[tokio::test]
async fn bad_input_is_a_clear_4xx_problem_and_changes_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let seller = app.signup("Careful Co").await;
    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 5).await;
    let key = seller.api_key.as_str();
    let orders = app.url("/api/v1/orders");

    let malformed = app
        .raw(
            app.client
                .post(&orders)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body("{\"lines\": ["),
        )
        .await;
    assert_eq!(malformed.assert_problem(400), "malformed-json");

    let mut unknown_field = order_body(&[("A", 1)]);
    unknown_field["discount"] = json!(100);
    let reply = app.place_order(&seller, unknown_field).await;
    assert_eq!(reply.assert_problem(400), "malformed-json");
    assert!(reply.body["detail"].as_str().unwrap().contains("discount"));

    let reply = app.place_order(&seller, order_body(&[("A", -3)])).await;
    assert_eq!(reply.assert_problem(400), "validation-error");
    assert_eq!(reply.body["errors"][0]["field"], "lines[0].quantity");

    let reply = app
        .place_order(&seller, order_body(&[("A", 1), ("GHOST", 1)]))
        .await;
    assert_eq!(reply.assert_problem(422), "unknown-sku");
    assert_eq!(reply.body["skus"], json!(["GHOST"]));

    let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let reply = app
        .raw(
            app.client
                .post(&orders)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!(reply.assert_problem(413), "payload-too-large");

    let reply = app
        .raw(
            app.client
                .post(&orders)
                .bearer_auth(key)
                .header("content-type", "text/plain")
                .body("hi"),
        )
        .await;
    assert_eq!(reply.assert_problem(415), "unsupported-media-type");

    let reply = app
        .call(
            Method::PUT,
            "/api/v1/inventory/A/quantity",
            Some(key),
            Some(json!({ "on_hand": -1, "reason": "x" })),
        )
        .await;
    assert_eq!(reply.assert_problem(400), "validation-error");
    let reply = app
        .call(
            Method::PUT,
            "/api/v1/inventory/A/quantity",
            Some(key),
            Some(json!({ "on_hand": "ten", "reason": "x" })),
        )
        .await;
    assert_eq!(reply.assert_problem(400), "malformed-json");
    let reply = app
        .call(
            Method::PUT,
            "/api/v1/inventory/A/quantity",
            Some(key),
            Some(json!({ "on_hand": 99999999999999999999u128 as f64, "reason": "x" })),
        )
        .await;
    assert!(reply.status.is_client_error());

    let reply = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(key),
            Some(json!({ "sku": "A", "name": "dup" })),
        )
        .await;
    assert_eq!(reply.assert_problem(409), "duplicate-sku");
    let reply = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(key),
            Some(json!({ "sku": "bad sku!", "name": "", "barcode": "123" })),
        )
        .await;
    assert_eq!(reply.assert_problem(400), "validation-error");
    assert_eq!(reply.body["errors"].as_array().unwrap().len(), 3);

    for path in [
        "/api/v1/orders/not-a-uuid",
        "/api/v1/orders/01a2090e-8614-71e9-aedb-17dfd7928cc5",
        "/api/v1/products/NOPE",
        "/api/v1/inventory/bad%20sku",
        "/api/v1/nothing-here",
    ] {
        let reply = app.call(Method::GET, path, Some(key), None).await;
        assert_eq!(reply.assert_problem(404), "not-found", "{path}");
    }
    let reply = app
        .call(Method::GET, "/api/v1/orders?status=lost", Some(key), None)
        .await;
    assert_eq!(reply.assert_problem(400), "bad-request");
    let reply = app
        .call(Method::GET, "/api/v1/orders?cursor=%%%", Some(key), None)
        .await;
    assert!(reply.status.is_client_error());
    let reply = app
        .call(Method::GET, "/api/v1/orders?limit=-5", Some(key), None)
        .await;
    assert_eq!(reply.assert_problem(400), "invalid-query");
    let reply = app
        .call(
            Method::GET,
            "/api/v1/products?limit=100000",
            Some(key),
            None,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "an oversized page is clamped, not refused"
    );

    let reply = app
        .raw(
            app.client
                .post(&orders)
                .bearer_auth(key)
                .header("Idempotency-Key", "")
                .json(&order_body(&[("A", 1)])),
        )
        .await;
    assert_eq!(reply.assert_problem(400), "bad-request");

    // Authentication failures.
    let reply = app.call(Method::GET, "/api/v1/orders", None, None).await;
    assert_eq!(reply.assert_problem(401), "unauthenticated");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    let wrong = format!("tote_sk_{}", "0".repeat(48));
    let reply = app
        .call(Method::GET, "/api/v1/orders", Some(&wrong), None)
        .await;
    assert_eq!(reply.assert_problem(401), "unauthenticated");
    let reply = app
        .call(Method::GET, "/api/v1/orders", Some("garbage"), None)
        .await;
    assert_eq!(reply.assert_problem(401), "unauthenticated");

    let reply = app
        .call(
            Method::POST,
            "/api/v1/signup",
            None,
            Some(json!({ "company": "", "email": "nope" })),
        )
        .await;
    assert_eq!(reply.assert_problem(400), "validation-error");

    // After all that, nothing changed.
    let level = app.stock(&seller, "A").await;
    assert_eq!(
        (level["on_hand"].clone(), level["reserved"].clone()),
        (json!(5), json!(0))
    );
    let list = app
        .call(Method::GET, "/api/v1/orders", Some(key), None)
        .await;
    assert_eq!(list.body["items"], json!([]));
}

/// The identity routes take garbage as calmly: a 4xx problem, never a 5xx.
#[tokio::test]
async fn garbage_at_the_identity_routes_is_a_4xx_problem() {
    let app = e2e::spawn_app_with(
        Backend::Sqlite,
        &[("TOTE_LOGIN_ATTEMPTS_PER_MINUTE", "1000")],
    )
    .await;
    let (seller, owner) = app
        .signup_owner("Careful Co", "owner@careful.example")
        .await;
    let long = "x".repeat(10_000);
    let cases = [
        ("/api/v1/auth/login", json!({ "email": 1, "password": [] })),
        (
            "/api/v1/auth/login",
            json!({ "email": long, "password": long }),
        ),
        (
            "/api/v1/auth/login",
            json!({ "email": "owner@careful.example", "password": "\u{0000}\u{202e}" }),
        ),
        (
            "/api/v1/auth/login",
            json!({ "email": "owner@careful.example", "password": "x", "totp_code": "１２３４５６" }),
        ),
        ("/api/v1/auth/refresh", json!({ "refresh_token": long })),
        (
            "/api/v1/auth/refresh",
            json!({ "refresh_token": "tote_rt_zz" }),
        ),
        ("/api/v1/auth/logout", json!({ "refresh_token": null })),
        (
            "/api/v1/signup",
            json!({ "company": "X", "email": "x@x.example", "password": "short" }),
        ),
        (
            "/api/v1/users",
            json!({ "email": "ü@ß.example", "role": "ADMIN", "password": long }),
        ),
        (
            "/api/v1/api-keys",
            json!({ "name": long, "scopes": [long] }),
        ),
        ("/api/v1/customers/erase", json!({ "email": long })),
        ("/api/v1/auth/totp/confirm", json!({ "code": "000000" })),
    ];
    for (path, body) in cases {
        for token in [
            Some(owner.access.as_str()),
            Some(seller.api_key.as_str()),
            None,
        ] {
            let reply = app
                .call(Method::POST, path, token, Some(body.clone()))
                .await;
            assert!(
                reply.status.is_client_error(),
                "{path} {body}: {} {}",
                reply.status,
                reply.body
            );
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json"),
                "{path}"
            );
        }
    }
    for bearer in [
        "Bearer",
        "Bearer ",
        "Bearer a.b",
        "Bearer ....",
        "Basic abc",
        "Bearer eyJhbGciOiJub25lIn0",
    ] {
        let reply = app
            .raw(
                app.client
                    .get(app.url("/api/v1/orders"))
                    .header("authorization", bearer),
            )
            .await;
        assert_eq!(reply.assert_problem(401), "unauthenticated", "{bearer:?}");
    }
    for query in [
        "?since=yesterday",
        "?failed=maybe",
        "?cursor=%%%",
        "?limit=-1",
        "?unknown=1",
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v1/audit{query}"),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
    }
    let users = app
        .call(
            Method::GET,
            "/api/v1/users/not-a-uuid",
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(users.assert_problem(404), "not-found");
}
