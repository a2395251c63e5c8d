use e2e::{ADMIN_TOKEN, order_body, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use testkit::Backend;
use tote::consumers::DailyOrdersProjection;

#[tokio::test]
async fn without_an_admin_token_the_operator_api_does_not_exist() {
    let app = spawn_app(Backend::Sqlite).await;
    let reply = app
        .call(Method::GET, "/api/v1/admin/outbox", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(reply.assert_problem(404), "not-found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_the_backlog_and_replays_dead_letters() {
    let app = spawn_app_with(Backend::Sqlite, &[("TOTE_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    let seller = app.signup("Ops Co").await;
    let denied = app
        .call(
            Method::GET,
            "/api/v1/admin/outbox",
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(denied.assert_problem(401), "unauthenticated");

    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 3).await;
    let order = app.place_order(&seller, order_body(&[("A", 1)])).await;
    assert_eq!(order.status, StatusCode::CREATED);
    let tenant = seller.tenant_id.parse().unwrap();
    let mut drained = false;
    for _ in 0..200 {
        let status = app
            .call(Method::GET, "/api/v1/admin/outbox", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(status.status, StatusCode::OK);
        if status.body["pending"] == 0 {
            assert!(status.body["oldest_pending_age_seconds"].is_null());
            drained = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(drained, "the in-process relay drains the outbox");

    // A consumer that had given up on an event (as after a database outage): it is listed,
    // and a replay applies it once.
    let created = app
        .db
        .store
        .events_of(tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.event.event_type == "order.created")
        .unwrap()
        .event;
    let mut lost = created.clone();
    lost.id = kernel::EventId::new(); // a different event the projection never saw
    app.db
        .store
        .record_dead_letter(DailyOrdersProjection::NAME, &lost, "database unavailable")
        .await
        .unwrap();

    let list = app
        .call(
            Method::GET,
            "/api/v1/admin/dead-letters",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"][0]["source"], "in_process");
    assert_eq!(list.body["items"][0]["event_id"], lost.id.to_string());
    assert_eq!(list.body["items"][0]["error"], "database unavailable");

    let replay = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/admin/dead-letters/{}/replay",
                DailyOrdersProjection::NAME
            ),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(
        (
            replay.body["replayed"].as_u64(),
            replay.body["still_failing"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let list = app
        .call(
            Method::GET,
            "/api/v1/admin/dead-letters",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(list.body["items"], serde_json::json!([]));
    let rows = app.db.store.daily_orders(tenant).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.2).sum::<i64>(),
        2,
        "the original and the replayed event"
    );

    let unknown = app
        .call(
            Method::POST,
            "/api/v1/admin/dead-letters/nobody/replay",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(unknown.assert_problem(404), "not-found");
}

/// The value of the one `/metrics` line that starts with `series` followed by a space.
fn gauge(text: &str, series: &str) -> Option<i64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_every_database_pool_on_postgres() {
    let app = spawn_app_with(
        Backend::Postgres,
        &[
            ("TOTE_DATABASE_MAX_CONNECTIONS", "6"),
            ("TOTE_DATABASE_BACKGROUND_CONNECTIONS", "3"),
        ],
    )
    .await;
    let seller = app.signup("Pools Co").await;
    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 5).await;
    assert_eq!(
        app.place_order(&seller, order_body(&[("A", 1)]))
            .await
            .status,
        StatusCode::CREATED
    );
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let max = |pool: &str| {
        gauge(
            &text,
            &format!("tote_db_pool_max_connections{{pool=\"{pool}\"}}"),
        )
    };
    // Each pool with its own size: the requests' as configured, the background work's own,
    // and sea-orm's for reads outside a transaction (at most 4).
    assert_eq!(max("requests"), Some(6), "{text}");
    assert_eq!(max("background"), Some(3), "{text}");
    assert_eq!(max("reads"), Some(4), "{text}");
    for pool in ["requests", "background", "reads"] {
        let open = gauge(
            &text,
            &format!("tote_db_pool_connections{{pool=\"{pool}\"}}"),
        );
        let idle = gauge(
            &text,
            &format!("tote_db_pool_idle_connections{{pool=\"{pool}\"}}"),
        );
        assert!(
            matches!((open, idle), (Some(o), Some(i)) if i <= o && o <= max(pool).unwrap()),
            "{pool}: {text}"
        );
    }
    // deadpool counts its waiters (a borrower whose connection is still being opened is one),
    // sqlx does not, so `reads` has no such gauge.
    for pool in ["requests", "background"] {
        let waiting = gauge(&text, &format!("tote_db_pool_waiting{{pool=\"{pool}\"}}"));
        assert!(matches!(waiting, Some(0..=6)), "{pool}: {text}");
    }
    assert_eq!(gauge(&text, "tote_db_pool_waiting{pool=\"reads\"}"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_orders_by_outcome() {
    let app = spawn_app(Backend::Sqlite).await;
    let seller = app.signup("Metrics Co").await;
    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 1).await;
    assert_eq!(
        app.place_order(&seller, order_body(&[("A", 1)]))
            .await
            .status,
        StatusCode::CREATED
    );
    let mut strict = order_body(&[("A", 1)]);
    strict["allow_backorder"] = serde_json::json!(false);
    assert_eq!(
        app.place_order(&seller, strict).await.status,
        StatusCode::CONFLICT
    );
    app.call(Method::GET, "/no/such/page/12345", None, None)
        .await;

    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("tote_orders_created_total 1"), "{text}");
    assert!(text.contains("tote_reservations_refused_total 1"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("tote_http_requests_total{")
                && l.contains("endpoint=\"/api/v1/orders\"")
                && l.contains("status=\"201\"")),
        "{text}"
    );
    // Unknown paths are one label, not one per path.
    assert!(!text.contains("12345"));
    // SQLite: one connection, sea-orm's, does everything.
    assert!(
        text.contains("tote_db_pool_max_connections{pool=\"reads\"} 1"),
        "{text}"
    );
    assert!(!text.contains("pool=\"requests\""), "{text}");

    // The in-process relay publishes the order's event: its lag is measured; no consumer has
    // dead letters.
    let mut text = String::new();
    for _ in 0..50 {
        text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("tote_outbox_publish_lag_seconds_count")
            && !text.contains("tote_events_published_total 0")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let published: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tote_events_published_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(published >= 1, "{text}");
    assert!(
        text.contains("tote_outbox_publish_lag_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains("tote_dead_letters{consumer=\"orders.backorder_allocation\"} 0"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id_that_follows_the_order_into_its_events() {
    let app = spawn_app(Backend::Sqlite).await;
    let made = app.call(Method::GET, "/health", None, None).await;
    let id = made.header("x-request-id").expect("a request id is made");
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let echoed = app
        .raw(
            app.client
                .get(app.url("/nope"))
                .header("X-Request-Id", "lb-7f3a"),
        )
        .await;
    assert_eq!(
        echoed.header("x-request-id"),
        Some("lb-7f3a"),
        "kept on errors too"
    );

    let seller = app.signup("Traced Co").await;
    app.create_product(&seller, "A").await;
    app.set_stock(&seller, "A", 1).await;
    let trace = uuid::Uuid::now_v7();
    let placed = app
        .raw(
            app.client
                .post(app.url("/api/v1/orders"))
                .bearer_auth(&seller.api_key)
                .header("X-Request-Id", trace.to_string())
                .json(&order_body(&[("A", 1)])),
        )
        .await;
    assert_eq!(
        placed.header("x-request-id"),
        Some(trace.to_string().as_str())
    );
    let events = app
        .db
        .store
        .events_of(seller.tenant_id.parse().unwrap())
        .await
        .unwrap();
    let created = events
        .iter()
        .find(|e| e.event.event_type == "order.created")
        .unwrap();
    assert_eq!(created.event.correlation_id.map(|c| c.0), Some(trace));
}
