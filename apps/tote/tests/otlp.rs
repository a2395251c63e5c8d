//! Traces over OTLP from the real binary: a fake collector (built from the OTLP/HTTP spec: a
//! `POST /v1/traces` with a protobuf body, answered 200) receives the request's spans, in the
//! caller's trace, and the events the request wrote carry that trace on.

#![cfg(feature = "otel")]

use actix_web::{App, HttpResponse, HttpServer, web};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::TestDb;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// The collector: records every request's path and body.
fn collector() -> (String, Received, actix_web::dev::ServerHandle) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let sink = sink.clone();
        App::new().default_service(web::to(
            move |req: actix_web::HttpRequest, body: web::Bytes| {
                let sink = sink.clone();
                async move {
                    sink.lock()
                        .unwrap()
                        .push((req.path().to_owned(), body.to_vec()));
                    HttpResponse::Ok()
                        .content_type("application/x-protobuf")
                        .finish()
                }
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://{addr}"), received, handle)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn json(req: reqwest::RequestBuilder) -> serde_json::Value {
    let reply = req.send().await.unwrap();
    assert!(reply.status().is_success(), "{}", reply.status());
    reply.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_request_exports_its_spans_and_hands_its_trace_to_its_events() {
    let db = TestDb::postgres().await;
    let (endpoint, received, collector) = collector();
    let port = free_port();
    let _serve = Serve(
        Command::new(env!("CARGO_BIN_EXE_tote"))
            .arg("serve")
            .env("TOTE_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &db.url)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "tote serve did not start");
    let seller = json(
        client
            .post(format!("{base}/api/v1/signup"))
            .json(&serde_json::json!({ "company": "Traced Ltd", "email": "t@traced.example" })),
    )
    .await;
    let key = seller["api_key"].as_str().unwrap().to_owned();
    json(
        client
            .post(format!("{base}/api/v1/products"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "sku": "A", "name": "A" })),
    )
    .await;
    let order = json(
        client
            .post(format!("{base}/api/v1/orders"))
            .bearer_auth(&key)
            .header("traceparent", TRACEPARENT)
            .json(&serde_json::json!({
                "ship_to": { "name": "T", "line1": "1 St", "city": "X", "country": "GB" },
                "lines": [{ "sku": "A", "quantity": 1, "unit_price": { "amount_minor": 100, "currency": "GBP" } }]
            })),
    )
    .await;

    // The collector gets the request's span, in the caller's trace (ids travel as raw bytes).
    let trace_id: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE_ID[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut exported = false;
    for _ in 0..100 {
        exported = received.lock().unwrap().iter().any(|(path, body)| {
            path == "/v1/traces"
                && body.windows(16).any(|w| w == trace_id.as_slice())
                && body.windows(19).any(|w| w == b"POST /api/v1/orders")
        });
        if exported {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got: Vec<(String, usize)> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(p, b)| (p.clone(), b.len()))
        .collect();
    assert!(
        exported,
        "no span of the traced request reached the collector; got {got:?}"
    );

    // The order's event carries the same trace, for its consumers.
    let tenant =
        kernel::TenantId::from_uuid(seller["tenant_id"].as_str().unwrap().parse().unwrap());
    let events = db.store.events_of(tenant).await.unwrap();
    let created = events
        .iter()
        .find(|r| r.event.event_type == "order.created")
        .expect("order.created written");
    assert_eq!(
        created.event.aggregate_id.to_string(),
        order["id"].as_str().unwrap()
    );
    let traceparent = created
        .event
        .traceparent
        .as_deref()
        .expect("the event carries a trace");
    assert!(
        traceparent.starts_with(&format!("00-{TRACE_ID}-")),
        "{traceparent}"
    );
    assert!(kernel::trace::is_traceparent(traceparent));
    collector.stop(false).await;
}
