//! Limits trip exactly at their numbers: login per IP and per account, the per-tenant request
//! rate, and plan quotas (orders per day, SKUs).

use crate::on_both_databases;
use e2e::{ADMIN_TOKEN, PASSWORD, order_body, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use testkit::Backend;

/// A client whose requests come from another loopback address (another "IP").
fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .build()
        .unwrap()
}

async fn login_from(
    app: &e2e::TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> e2e::Reply {
    app.raw(
        client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password })),
    )
    .await
}

fn assert_limited(reply: &e2e::Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{what}: {}",
        reply.body
    );
    assert_eq!(reply.assert_problem(429), "rate-limited");
    let retry: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{what}: Retry-After {retry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_allows_five_attempts_a_minute_per_ip_and_per_account_then_429() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    app.signup_owner("Acme", "owner@acme.example").await; // one login from 127.0.0.1
    let victim = "owner@acme.example";

    // Per account: four more wrong guesses make five on this account, from two IPs.
    let a = client_from(11);
    for i in 0..4 {
        let r = login_from(&app, &a, victim, "wrong password!").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The sixth attempt on the account is refused, even from a fresh IP and with the right password.
    let b = client_from(12);
    assert_limited(&login_from(&app, &b, victim, PASSWORD).await, "account");
    // Another account from that fresh IP is not affected.
    assert_eq!(
        login_from(&app, &b, "nobody@acme.example", PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Per IP: five attempts on five different accounts, then the sixth is refused.
    let c = client_from(13);
    for i in 0..5 {
        let r = login_from(&app, &c, &format!("user{i}@acme.example"), PASSWORD).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_limited(
        &login_from(&app, &c, "user9@acme.example", PASSWORD).await,
        "ip",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_gets_its_request_rate_and_not_one_more() {
    let app = spawn_app_with(Backend::Sqlite, &[("TOTE_TENANT_RATE_PER_MINUTE", "10")]).await;
    let a = app.signup("A").await;
    let b = app.signup("B").await;
    for i in 0..10 {
        let r = app
            .call(Method::GET, "/api/v1/orders", Some(&a.api_key), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "request {i}");
    }
    assert_limited(
        &app.call(Method::GET, "/api/v1/orders", Some(&a.api_key), None)
            .await,
        "tenant",
    );
    let other = app
        .call(Method::GET, "/api/v1/orders", Some(&b.api_key), None)
        .await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another tenant is not affected"
    );
}

on_both_databases!(plan_quotas_trip_exactly_at_their_limits);

async fn plan_quotas_trip_exactly_at_their_limits(backend: Backend) {
    let app = spawn_app_with(backend, &[("TOTE_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    let a = app.signup("A").await;
    let b = app.signup("B").await;
    let plan = app
        .call(
            Method::PUT,
            &format!("/api/v1/admin/tenants/{}/plan", a.tenant_id),
            Some(ADMIN_TOKEN),
            Some(json!({ "orders_per_day": 3, "max_skus": 2 })),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);

    for sku in ["S1", "S2"] {
        assert_eq!(
            app.create_product(&a, sku).await.status,
            StatusCode::CREATED
        );
    }
    let third = app.create_product(&a, "S3").await;
    assert_eq!(third.assert_problem(403), "plan-limit");
    assert_eq!(third.body["limit"], 2);
    assert_eq!(
        app.create_product(&b, "S3").await.status,
        StatusCode::CREATED
    );

    app.set_stock(&a, "S1", 100).await;
    for i in 0..3 {
        let r = app.place_order(&a, order_body(&[("S1", 1)])).await;
        assert_eq!(r.status, StatusCode::CREATED, "order {i}: {}", r.body);
    }
    let fourth = app.place_order(&a, order_body(&[("S1", 1)])).await;
    assert_eq!(fourth.assert_problem(429), "plan-limit");
    assert!(fourth.header("retry-after").is_some());
    assert_eq!(
        app.stock(&a, "S1").await["reserved"],
        3,
        "the refused order reserved nothing"
    );
}
