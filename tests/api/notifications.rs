//! Customer notifications end to end: an order with an e-mail address gets its confirmation
//! (written as an .eml file by the embedded file notifier) and a log entry; a tenant's own
//! template changes what is sent; tenants never see each other's templates or log.

use crate::on_both_databases;
use e2e::{Seller, TestApp, order_body, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use testkit::Backend;

on_both_databases!(
    an_order_confirmation_is_mailed_logged_and_follows_the_tenants_template,
    another_tenant_sees_neither_templates_nor_log_and_bad_templates_are_refused,
);

fn mail_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tote_t_mail_{}", uuid::Uuid::now_v7().simple()))
}

async fn app_with_mail_dir(backend: Backend, dir: &Path) -> TestApp {
    spawn_app_with(backend, &[("TOTE_MAIL_DIR", dir.to_str().unwrap())]).await
}

async fn order_with_email(
    app: &TestApp,
    seller: &Seller,
    external_id: &str,
    email: Option<&str>,
) -> String {
    let mut body = order_body(&[("MUG", 1)]);
    body["external_id"] = json!(external_id);
    body["channel"] = json!("shopify");
    if let Some(email) = email {
        body["ship_to"]["email"] = json!(email);
    }
    let reply = app.place_order(seller, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// The order's log entries, once the consumer has written one (or panics after 15 s).
async fn log_of(app: &TestApp, seller: &Seller, order_id: &str) -> Vec<Value> {
    for _ in 0..300 {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v1/notifications?order_id={order_id}"),
                Some(&seller.api_key),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let items = reply.body["items"].as_array().unwrap().clone();
        if !items.is_empty() {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no notification logged for order {order_id}");
}

/// The text of the one .eml file whose name ends with the event's id.
fn mail_for_event(dir: &Path, event_id: &str) -> String {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(&format!("{event_id}.eml")))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::read_to_string(&files[0]).unwrap()
}

async fn an_order_confirmation_is_mailed_logged_and_follows_the_tenants_template(backend: Backend) {
    let dir = mail_dir();
    let app = app_with_mail_dir(backend, &dir).await;
    let seller = app.signup("Acme Socks").await;
    app.create_product(&seller, "MUG").await;
    app.set_stock(&seller, "MUG", 10).await;

    let first = order_with_email(&app, &seller, "#1001", Some("ada@example.com")).await;
    let log = log_of(&app, &seller, &first).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "order_confirmed");
    assert_eq!(log[0]["status"], "sent");
    assert_eq!(log[0]["recipient"], "ada@example.com");
    let mail = mail_for_event(&dir, log[0]["event_id"].as_str().unwrap());
    assert!(
        mail.contains("Subject: Your order #1001 is confirmed"),
        "{mail}"
    );
    assert!(mail.contains("ada@example.com"), "{mail}");
    assert!(mail.contains("Hello Ada Lovelace"), "{mail}");

    let put = app
        .call(
            Method::PUT,
            "/api/v1/notification-templates/order_confirmed",
            Some(&seller.api_key),
            Some(
                json!({"subject": "Acme got {{ order_ref }}, {{ customer_name }}!",
                        "body": "{{ lines | length }} line(s), {{ total }}"}),
            ),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["customised"], true);

    let second = order_with_email(&app, &seller, "#1002", Some("bob@example.com")).await;
    let log = log_of(&app, &seller, &second).await;
    let mail = mail_for_event(&dir, log[0]["event_id"].as_str().unwrap());
    assert!(
        mail.contains("Subject: Acme got #1002, Ada Lovelace!"),
        "{mail}"
    );
    assert!(mail.contains("1 line(s), 19.99 GBP"), "{mail}");

    // No address: recorded as skipped, nothing written.
    let third = order_with_email(&app, &seller, "#1003", None).await;
    let log = log_of(&app, &seller, &third).await;
    assert_eq!(log[0]["status"], "skipped");
    assert_eq!(log[0]["recipient"], Value::Null);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    let all = app
        .call(
            Method::GET,
            "/api/v1/notifications?limit=2",
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    assert!(all.body["next_cursor"].is_string(), "{}", all.body);

    let reset = app
        .call(
            Method::DELETE,
            "/api/v1/notification-templates/order_confirmed",
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(reset.body["customised"], false);
    assert_eq!(
        reset.body["subject"],
        "Your order {{ order_ref }} is confirmed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn another_tenant_sees_neither_templates_nor_log_and_bad_templates_are_refused(
    backend: Backend,
) {
    let dir = mail_dir();
    let app = app_with_mail_dir(backend, &dir).await;
    let (a, b) = (app.signup("Acme").await, app.signup("Bravo").await);
    app.create_product(&a, "MUG").await;
    let order = order_with_email(&app, &a, "#1", Some("ada@example.com")).await;
    log_of(&app, &a, &order).await;
    let put = app
        .call(
            Method::PUT,
            "/api/v1/notification-templates/order_shipped",
            Some(&a.api_key),
            Some(json!({"subject": "On its way", "body": "{{ tracking_url }}"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);

    let theirs = app
        .call(
            Method::GET,
            "/api/v1/notification-templates",
            Some(&b.api_key),
            None,
        )
        .await;
    let items = theirs.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        5,
        "every kind, the account owner's webhook notice included"
    );
    assert!(
        items.iter().all(|t| t["customised"] == false),
        "{}",
        theirs.body
    );
    let mine = app
        .call(
            Method::GET,
            "/api/v1/notification-templates",
            Some(&a.api_key),
            None,
        )
        .await;
    let shipped = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "order_shipped")
        .unwrap()
        .clone();
    assert_eq!(
        (shipped["customised"].clone(), shipped["subject"].clone()),
        (json!(true), json!("On its way"))
    );
    let their_log = app
        .call(
            Method::GET,
            &format!("/api/v1/notifications?order_id={order}"),
            Some(&b.api_key),
            None,
        )
        .await;
    assert_eq!(their_log.body["items"], json!([]));

    let bad = app
        .call(
            Method::PUT,
            "/api/v1/notification-templates/order_confirmed",
            Some(&a.api_key),
            Some(json!({"subject": "ok", "body": "{% for l in lines %}never closed"})),
        )
        .await;
    assert_eq!(bad.assert_problem(422), "invalid-template");
    assert_eq!(bad.body["errors"][0]["field"], "body", "{}", bad.body);
    let unknown = app
        .call(
            Method::PUT,
            "/api/v1/notification-templates/order_lost",
            Some(&a.api_key),
            Some(json!({"subject": "ok", "body": "ok"})),
        )
        .await;
    unknown.assert_problem(422);
    assert_eq!(unknown.body["errors"][0]["field"], "kind");
    let _ = std::fs::remove_dir_all(&dir);
}
