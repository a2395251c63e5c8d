use crate::on_both_databases;
use e2e::{Seller, TestApp, order_body, spawn_app};
use reqwest::{Method, StatusCode};
use std::time::Duration;
use testkit::Backend;

on_both_databases!(the_live_stream_delivers_a_tenants_order_events_in_order_and_resumes);

/// One server-sent event: its id and type.
#[derive(Debug, Clone, PartialEq)]
struct Sse {
    id: String,
    event: String,
}

struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, seller: &Seller, last_event_id: Option<&str>) -> Self {
        let mut request = app
            .client
            .get(app.url("/api/v1/events/stream"))
            .bearer_auth(&seller.api_key);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("stream opens");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event frame (comments and `retry:` skipped); gives up after 15 s.
    async fn next(&mut self) -> Sse {
        tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let frame: String = self.buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        frame
                            .lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(|v| v.trim().to_owned())
                    };
                    if let (Some(id), Some(event)) = (field("id:"), field("event:")) {
                        return Sse { id, event };
                    }
                    continue;
                }
                let chunk = self.response.chunk().await.unwrap().expect("stream open");
                self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .expect("an event within 15 s")
    }
}

async fn the_live_stream_delivers_a_tenants_order_events_in_order_and_resumes(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.signup("Streamer A").await;
    let b = app.signup("Streamer B").await;
    for seller in [&a, &b] {
        app.create_product(seller, "A").await;
        app.set_stock(seller, "A", 5).await;
    }
    let mut stream_a = Stream::open(&app, &a, None).await;
    let mut stream_b = Stream::open(&app, &b, None).await;

    let order = app.place_order(&a, order_body(&[("A", 1)])).await;
    let id = order.body["id"].as_str().unwrap().to_owned();
    let cancel = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{id}/cancel"),
            Some(&a.api_key),
            None,
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK);

    let created = stream_a.next().await;
    let cancelled = stream_a.next().await;
    assert_eq!(created.event, "order.created");
    assert_eq!(cancelled.event, "order.cancelled");

    // B's stream carries only B's events: its first is B's own order.
    let b_order = app.place_order(&b, order_body(&[("A", 1)])).await;
    assert_eq!(b_order.status, StatusCode::CREATED);
    assert_eq!(stream_b.next().await.event, "order.created");

    // Resume after the first event: the next one is the cancellation, not the creation again.
    drop(stream_a);
    let mut resumed = Stream::open(&app, &a, Some(&created.id)).await;
    assert_eq!(resumed.next().await, cancelled);

    let bad = app
        .raw(
            app.client
                .get(app.url("/api/v1/events/stream"))
                .bearer_auth(&a.api_key)
                .header("Last-Event-ID", "yesterday"),
        )
        .await;
    assert_eq!(bad.assert_problem(400), "bad-request");
}
