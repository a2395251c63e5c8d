use crate::on_both_databases;
use e2e::{order_body, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A request the receiver got: its headers (lower-case names) and raw body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A bare HTTP endpoint on a free port: answers 500 to the first `failures` requests, then 200.
async fn receiver(failures: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, length) = loop {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    break (pos + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end.saturating_sub(4)]).into_owned();
            let headers = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                .collect();
            let body = buf[head_end..].to_vec();
            let status = {
                let mut log = log.lock().unwrap();
                log.push(Received { headers, body });
                if log.len() <= failures {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                }
            };
            let reply =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    (url, seen)
}

async fn wait_for(seen: &Arc<Mutex<Vec<Received>>>, count: usize) {
    for _ in 0..300 {
        if seen.lock().unwrap().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the receiver got {} requests, wanted {count}",
        seen.lock().unwrap().len()
    );
}

on_both_databases!(a_webhook_is_signed_retried_by_replay_and_logged);

async fn a_webhook_is_signed_retried_by_replay_and_logged(backend: Backend) {
    let app = spawn_app_with(backend, &[("TOTE_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let seller = app.signup("Hooked Co").await;
    let (url, seen) = receiver(1).await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&seller.api_key),
            Some(json!({ "url": url, "events": ["order.*"] })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let hook = created.body["id"].as_str().unwrap().to_owned();
    let listed = app
        .call(Method::GET, "/api/v1/webhooks", Some(&seller.api_key), None)
        .await;
    assert!(
        listed.body["items"][0]["secret"].is_null(),
        "the secret is shown once"
    );

    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 2).await; // inventory.changed: not subscribed
    let order = app.place_order(&seller, order_body(&[("A", 1)])).await;

    // First attempt: the endpoint fails; the delivery waits for its retry.
    wait_for(&seen, 1).await;
    let deliveries_path = format!("/api/v1/webhooks/{hook}/deliveries");
    let mut log = app
        .call(Method::GET, &deliveries_path, Some(&seller.api_key), None)
        .await;
    for _ in 0..100 {
        if log.body["items"][0]["attempts"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        log = app
            .call(Method::GET, &deliveries_path, Some(&seller.api_key), None)
            .await;
    }
    let first = &log.body["items"][0];
    assert_eq!(
        log.body["items"].as_array().unwrap().len(),
        1,
        "only order events"
    );
    assert_eq!(
        (first["status"].as_str(), first["last_status_code"].as_u64()),
        (Some("pending"), Some(500))
    );

    // Replay: the recovered endpoint gets it, signed as documented.
    let delivery = first["id"].as_str().unwrap();
    let replay = app
        .call(
            Method::POST,
            &format!("{deliveries_path}/{delivery}/replay"),
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(replay.status, StatusCode::ACCEPTED);
    wait_for(&seen, 2).await;
    let got = seen.lock().unwrap()[1].clone();
    let signature = got.header("tote-signature").expect("signed");
    let now = chrono::Utc::now().timestamp();
    assert!(integration::webhook::verify(
        secret.as_bytes(),
        signature,
        &got.body,
        now,
        300
    ));
    assert!(!integration::webhook::verify(
        b"whsec_wrong",
        signature,
        &got.body,
        now,
        300
    ));
    let event: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(event["type"], "order.created");
    assert_eq!(event["aggregate_id"], order.body["id"]);
    assert_eq!(got.header("tote-event-id"), event["id"].as_str());

    let mut done = false;
    for _ in 0..100 {
        let log = app
            .call(Method::GET, &deliveries_path, Some(&seller.api_key), None)
            .await;
        if log.body["items"][0]["status"] == "succeeded" {
            assert_eq!(log.body["items"][0]["last_status_code"], 200);
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(done, "the delivery log shows the success");
    // Operators see the failure and the success on /metrics.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for outcome in ["failed", "delivered"] {
        assert!(
            metrics.contains(&format!(
                "tote_webhook_deliveries_total{{outcome=\"{outcome}\"}} 1"
            )),
            "{outcome}: {metrics}"
        );
    }

    // Another tenant sees none of it.
    let other = app.signup("Nosy Co").await;
    let peek = app
        .call(Method::GET, &deliveries_path, Some(&other.api_key), None)
        .await;
    assert_eq!(peek.assert_problem(404), "not-found");
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&other.api_key),
            None,
        )
        .await;
    assert_eq!(gone.assert_problem(404), "not-found");
}

#[tokio::test]
async fn webhooks_to_private_addresses_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let seller = app.signup("Careful Co").await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest",
        "https://localhost/x",
    ] {
        let reply = app
            .call(
                Method::POST,
                "/api/v1/webhooks",
                Some(&seller.api_key),
                Some(json!({ "url": url, "events": ["#"] })),
            )
            .await;
        assert_eq!(reply.assert_problem(400), "validation-error", "{url}");
        assert_eq!(reply.body["errors"][0]["field"], "url");
    }
    let reply = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&seller.api_key),
            Some(json!({ "url": "https://hooks.example.com/t", "events": ["Order Created"] })),
        )
        .await;
    assert_eq!(reply.assert_problem(400), "validation-error");
}
