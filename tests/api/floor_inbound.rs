//! Receiving, cycle counts and QC over HTTP: an ASN received with over, under and damaged
//! units books only the good ones and reports the rest; replayed scans apply once; put-away
//! places units in a bin; a count's variance adjusts stock through the ledger and shows in
//! accuracy; failed QC quarantines units out of `available` until released or disposed of;
//! other tenants' ids answer 404.

use crate::lifecycle::eventually;
use crate::on_both_databases;
use e2e::{Reply, Seller, TestApp, order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(
    an_asn_with_over_under_and_damaged_units_books_only_the_good_ones_and_reports_the_rest,
    a_cycle_count_variance_adjusts_stock_through_the_ledger_and_shows_in_accuracy,
    failed_qc_quarantines_units_until_released_or_disposed_of,
    another_tenants_receiving_counts_and_quarantines_answer_404,
    an_idempotency_key_creates_an_asn_and_quarantines_units_once,
);

async fn send(
    app: &TestApp,
    seller: &Seller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    app.call(method, path, Some(&seller.api_key), body).await
}

async fn post(app: &TestApp, seller: &Seller, path: &str, body: Value) -> Reply {
    send(app, seller, Method::POST, path, Some(body)).await
}

async fn get(app: &TestApp, seller: &Seller, path: &str) -> Reply {
    send(app, seller, Method::GET, path, None).await
}

async fn seed_bin(app: &TestApp, seller: &Seller, code: &str, stock: &[(&str, i64, bool)]) {
    let tenant = kernel::TenantId::from_uuid(seller.tenant_id.parse().unwrap());
    app.db
        .store
        .seed_bin(tenant, "MAIN", code, 1, stock)
        .await
        .expect("bin seeded");
}

fn scan(n: u128, barcode: &str, quantity: i64, damaged: bool) -> Value {
    json!({
        "scan_id": uuid::Uuid::from_u128(n),
        "barcode": barcode,
        "quantity": quantity,
        "damaged": damaged,
    })
}

async fn an_asn_with_over_under_and_damaged_units_books_only_the_good_ones_and_reports_the_rest(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Inbound Co").await;
    for sku in ["TEE", "MUG", "CAP"] {
        assert_eq!(
            app.create_product(&seller, sku).await.status,
            StatusCode::CREATED
        );
    }
    // TEE lives in A-01; the others go to the receiving bin.
    seed_bin(&app, &seller, "A-01", &[("TEE", 0, true)]).await;
    seed_bin(&app, &seller, "RECV", &[]).await;

    let unknown = post(
        &app,
        &seller,
        "/api/v1/inbound-shipments",
        json!({ "reference": "PO-0", "warehouse": "MAIN",
                "lines": [{ "sku": "TEE", "expected": 1 }, { "sku": "NOPE", "expected": 1 }] }),
    )
    .await;
    assert_eq!(unknown.assert_problem(422), "unknown-sku");
    assert_eq!(unknown.body["skus"], json!(["NOPE"]));

    let created = post(
        &app,
        &seller,
        "/api/v1/inbound-shipments",
        json!({ "reference": "PO-1001", "warehouse": "main", "lines": [
            { "sku": "TEE", "expected": 10 },
            { "sku": "MUG", "expected": 5 },
            { "sku": "CAP", "expected": 2 },
        ] }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "expected");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let receive = format!("/api/v1/inbound-shipments/{id}/receive");

    let first = post(&app, &seller, &receive, scan(1, "TEE", 12, false)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["received"], 12);
    // The handheld retries the same scan: applied once.
    let replay = post(&app, &seller, &receive, scan(1, "TEE", 12, false)).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(replay.body["received"], 12);
    assert_eq!(
        post(&app, &seller, &receive, scan(2, "MUG", 3, false))
            .await
            .status,
        StatusCode::OK
    );
    let damaged = post(&app, &seller, &receive, scan(3, "mug", 1, true)).await;
    assert_eq!(damaged.body["damaged"], 1);
    // An item that is not on the ASN: a clear problem, and nothing changes.
    let stranger = post(&app, &seller, &receive, scan(4, "HAT", 1, false)).await;
    assert_eq!(stranger.assert_problem(422), "not-on-shipment");
    let zero = post(&app, &seller, &receive, scan(5, "CAP", 0, false)).await;
    zero.assert_problem(400);

    let listed = get(&app, &seller, "/api/v1/inbound-shipments?status=receiving").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let none = get(&app, &seller, "/api/v1/inbound-shipments?status=closed").await;
    assert!(none.body["items"].as_array().unwrap().is_empty());
    let shown = get(&app, &seller, &format!("/api/v1/inbound-shipments/{id}")).await;
    assert_eq!(shown.body["lines"][0]["received"], 12);
    assert_eq!(shown.body["lines"][1]["damaged"], 1);
    assert_eq!(
        shown.body["version"], 4,
        "the replay and the refusals wrote nothing"
    );

    // No home for MUG and no default bin: refused, nothing booked.
    let homeless = post(
        &app,
        &seller,
        &format!("/api/v1/inbound-shipments/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(homeless.assert_problem(422), "no-put-away-bin");
    assert_eq!(app.stock(&seller, "TEE").await["on_hand"], 0);

    let closed = post(
        &app,
        &seller,
        &format!("/api/v1/inbound-shipments/{id}/close"),
        json!({ "default_bin": "recv" }),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(
        closed.body["discrepancies"],
        json!([
            { "sku": "TEE", "expected": 10, "over": 2, "under": 0, "damaged": 0 },
            { "sku": "MUG", "expected": 5, "over": 0, "under": 2, "damaged": 1 },
            { "sku": "CAP", "expected": 2, "over": 0, "under": 2, "damaged": 0 },
        ])
    );
    assert_eq!(
        closed.body["receipts"],
        json!([{ "sku": "TEE", "quantity": 12 }, { "sku": "MUG", "quantity": 3 }])
    );
    let tasks = closed.body["put_away"].as_array().unwrap().clone();
    let bins: Vec<(&str, &str)> = tasks
        .iter()
        .map(|t| {
            (
                t["sku"].as_str().unwrap(),
                t["suggested_bin"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(bins, [("TEE", "A-01"), ("MUG", "RECV")]);

    // Only the good units are stock; damaged ones never became available.
    for (sku, units) in [("TEE", 12), ("MUG", 3), ("CAP", 0)] {
        let level = app.stock(&seller, sku).await;
        assert_eq!(
            (level["on_hand"].as_i64(), level["available"].as_i64()),
            (Some(units), Some(units)),
            "{sku}: {level}"
        );
    }
    let movements = get(&app, &seller, "/api/v1/inventory/MUG/movements").await;
    let receipt = &movements.body["items"][0];
    assert_eq!(receipt["kind"], "receipt");
    assert_eq!(receipt["on_hand_delta"], 3);
    assert_eq!(receipt["reference"], format!("inbound:{id}"));

    let again = post(
        &app,
        &seller,
        &format!("/api/v1/inbound-shipments/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(again.assert_problem(409), "illegal-transition");
    let late = post(&app, &seller, &receive, scan(6, "CAP", 1, false)).await;
    late.assert_problem(409);

    // Put away: the units land in the bin the worker scans.
    let tee_task = tasks[0]["task_id"].as_str().unwrap();
    let confirm = format!("/api/v1/warehouse/put-away-tasks/{tee_task}/confirm");
    let nowhere = post(&app, &seller, &confirm, json!({ "bin": "Z-99" })).await;
    assert_eq!(nowhere.assert_problem(422), "unknown-bin");
    let placed = post(&app, &seller, &confirm, json!({ "bin": "A-01" })).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
    assert_eq!(placed.body["status"], "done");
    assert_eq!(placed.body["placed_bin"], "A-01");
    post(&app, &seller, &confirm, json!({ "bin": "A-01" }))
        .await
        .assert_problem(409);
    // A count of A-01 now expects the 12 put away there.
    let count = post(
        &app,
        &seller,
        "/api/v1/warehouse/counts",
        json!({ "warehouse": "MAIN", "bin": "A-01" }),
    )
    .await;
    assert_eq!(count.status, StatusCode::CREATED, "{}", count.body);
    assert_eq!(
        count.body["lines"],
        json!([{ "sku": "TEE", "expected": 12, "counted": 0, "delta": -12 }])
    );
}

async fn a_cycle_count_variance_adjusts_stock_through_the_ledger_and_shows_in_accuracy(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Counting Co").await;
    for sku in ["TEE", "MUG"] {
        app.create_product(&seller, sku).await;
    }
    app.set_stock(&seller, "TEE", 10).await;
    app.set_stock(&seller, "MUG", 4).await;
    seed_bin(
        &app,
        &seller,
        "B-02",
        &[("TEE", 10, true), ("MUG", 4, true)],
    )
    .await;

    let opened = post(
        &app,
        &seller,
        "/api/v1/warehouse/counts",
        json!({ "warehouse": "MAIN", "bin": "b-02" }),
    )
    .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    assert_eq!(opened.body["status"], "open");
    let id = opened.body["id"].as_str().unwrap().to_owned();
    let lines = format!("/api/v1/warehouse/counts/{id}/lines");
    post(&app, &seller, &lines, json!({ "sku": "TEE", "counted": 9 })).await;
    // A recount replaces the first figure.
    let recount = post(&app, &seller, &lines, json!({ "sku": "TEE", "counted": 7 })).await;
    assert_eq!(recount.status, StatusCode::OK, "{}", recount.body);
    post(&app, &seller, &lines, json!({ "sku": "MUG", "counted": 4 })).await;
    let unknown = post(
        &app,
        &seller,
        &lines,
        json!({ "sku": "NOPE", "counted": 1 }),
    )
    .await;
    assert_eq!(unknown.assert_problem(422), "unknown-sku");
    post(
        &app,
        &seller,
        &lines,
        json!({ "sku": "MUG", "counted": -1 }),
    )
    .await
    .assert_problem(400);

    // Orders hold 8 TEE: a count of 7 would leave them without stock, so it is refused whole.
    let order = app.place_order(&seller, order_body(&[("TEE", 8)])).await;
    assert_eq!(order.body["status"], "allocated", "{}", order.body);
    let refused = post(
        &app,
        &seller,
        &format!("/api/v1/warehouse/counts/{id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(refused.assert_problem(422), "below-reserved");
    assert_eq!(app.stock(&seller, "TEE").await["on_hand"], 10);
    let order_id = order.body["id"].as_str().unwrap();
    post(
        &app,
        &seller,
        &format!("/api/v1/orders/{order_id}/cancel"),
        json!({ "reason": "test" }),
    )
    .await;

    let submitted = post(
        &app,
        &seller,
        &format!("/api/v1/warehouse/counts/{id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);
    assert_eq!(submitted.body["status"], "submitted");
    assert_eq!(
        submitted.body["variances"],
        json!([{ "sku": "TEE", "expected": 10, "counted": 7, "delta": -3 }])
    );
    assert!(
        submitted.body["counter"]
            .as_str()
            .unwrap()
            .starts_with("api_key:")
    );
    let level = app.stock(&seller, "TEE").await;
    assert_eq!(
        (level["on_hand"].as_i64(), level["available"].as_i64()),
        (Some(7), Some(7)),
        "{level}"
    );
    assert_eq!(app.stock(&seller, "MUG").await["on_hand"], 4);

    let movements = get(&app, &seller, "/api/v1/inventory/TEE/movements").await;
    let count_move = movements.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["reference"] == format!("count:{id}"))
        .expect("a count movement")
        .clone();
    assert_eq!(count_move["kind"], "count");
    assert_eq!(count_move["on_hand_delta"], -3);
    assert_eq!(count_move["reason"], "cycle count of bin B-02");
    assert_eq!(count_move["actor"], submitted.body["counter"]);

    let shown = get(&app, &seller, &format!("/api/v1/warehouse/counts/{id}")).await;
    assert_eq!(shown.body["status"], "submitted");
    post(
        &app,
        &seller,
        &format!("/api/v1/warehouse/counts/{id}/submit"),
        json!({}),
    )
    .await
    .assert_problem(409);
    // The bin's book figure is the counted one: a new count expects 7.
    let next = post(
        &app,
        &seller,
        "/api/v1/warehouse/counts",
        json!({ "warehouse": "MAIN", "bin": "B-02" }),
    )
    .await;
    let expected: Vec<(String, i64)> = next.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["expected"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(expected, [("MUG".to_owned(), 4), ("TEE".to_owned(), 7)]);

    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let accuracy = get(
        &app,
        &seller,
        &format!("/api/v1/warehouse/accuracy?warehouse=MAIN&from={today}&to={tomorrow}"),
    )
    .await;
    assert_eq!(accuracy.status, StatusCode::OK, "{}", accuracy.body);
    let day = &accuracy.body["days"][0];
    assert_eq!(day["day"], today.to_string());
    assert_eq!(day["lines"], 2);
    assert_eq!(day["exact_lines"], 1);
    assert_eq!(day["line_accuracy_bps"], 5_000);
    assert_eq!(day["expected_units"], 14);
    assert_eq!(day["variance_units"], 3);
    assert_eq!(day["unit_accuracy_bps"], 7_857);
    assert_eq!(accuracy.body["total"]["lines"], 2);
    get(
        &app,
        &seller,
        "/api/v1/warehouse/accuracy?warehouse=MAIN&from=yesterday",
    )
    .await
    .assert_problem(400);
    let nowhere = get(&app, &seller, "/api/v1/warehouse/accuracy?warehouse=NOPE").await;
    assert_eq!(nowhere.assert_problem(422), "unknown-warehouse");
    let no_bin = post(
        &app,
        &seller,
        "/api/v1/warehouse/counts",
        json!({ "warehouse": "MAIN", "bin": "Q-1" }),
    )
    .await;
    assert_eq!(no_bin.assert_problem(422), "unknown-bin");
}

async fn failed_qc_quarantines_units_until_released_or_disposed_of(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("QC Co").await;
    app.create_product(&seller, "TEE").await;
    app.set_stock(&seller, "TEE", 5).await;

    let bad = post(
        &app,
        &seller,
        "/api/v1/qc/checklists",
        json!({ "name": "In", "stage": "later", "items": ["x"] }),
    )
    .await;
    bad.assert_problem(400);
    let checklist = post(
        &app,
        &seller,
        "/api/v1/qc/checklists",
        json!({ "name": "Inbound apparel", "stage": "receipt", "items": ["Sealed", "Dry", "Tags attached"] }),
    )
    .await;
    assert_eq!(checklist.status, StatusCode::CREATED, "{}", checklist.body);
    let checklist_id = checklist.body["id"].as_str().unwrap().to_owned();
    let listed = get(&app, &seller, "/api/v1/qc/checklists").await;
    assert_eq!(
        listed.body["items"][0]["items"].as_array().unwrap().len(),
        3
    );

    let inspect = |answers: Value, quantity: i64| {
        json!({ "checklist": checklist_id, "sku": "TEE", "warehouse": "MAIN",
                "quantity": quantity, "answers": answers, "reference": "PO-7" })
    };
    let passed = post(
        &app,
        &seller,
        "/api/v1/qc/inspections",
        inspect(json!([true, true, true]), 2),
    )
    .await;
    assert_eq!(passed.status, StatusCode::CREATED, "{}", passed.body);
    assert_eq!(passed.body["outcome"], "released");
    assert_eq!(app.stock(&seller, "TEE").await["available"], 5);
    post(
        &app,
        &seller,
        "/api/v1/qc/inspections",
        inspect(json!([true]), 2),
    )
    .await
    .assert_problem(422);
    let too_many = post(
        &app,
        &seller,
        "/api/v1/qc/inspections",
        inspect(json!([false, true, true]), 6),
    )
    .await;
    assert_eq!(too_many.assert_problem(409), "insufficient-stock");

    // All five units fail: out of available at once, so an order for them backorders.
    let failed = post(
        &app,
        &seller,
        "/api/v1/qc/inspections",
        inspect(json!([true, false, true]), 5),
    )
    .await;
    assert_eq!(failed.status, StatusCode::CREATED, "{}", failed.body);
    assert_eq!(failed.body["outcome"], "quarantined");
    assert_eq!(failed.body["quarantine"]["reason"], "failed: Dry");
    let quarantine = failed.body["quarantine"]["id"].as_str().unwrap().to_owned();
    let level = app.stock(&seller, "TEE").await;
    assert_eq!(
        (level["on_hand"].as_i64(), level["available"].as_i64()),
        (Some(5), Some(0)),
        "{level}"
    );
    let order = app.place_order(&seller, order_body(&[("TEE", 4)])).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    assert_eq!(order.body["status"], "backordered", "{}", order.body);
    let order_id = order.body["id"].as_str().unwrap().to_owned();
    let held = get(&app, &seller, "/api/v1/qc/quarantines?status=held").await;
    assert_eq!(held.body["items"][0]["id"], quarantine.as_str());

    // Released: the units are available again and the waiting order gets them.
    let released = post(
        &app,
        &seller,
        &format!("/api/v1/qc/quarantines/{quarantine}/release"),
        json!({}),
    )
    .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(released.body["status"], "released");
    eventually(&app, &seller, &order_id, |o| o["status"] == "allocated").await;
    post(
        &app,
        &seller,
        &format!("/api/v1/qc/quarantines/{quarantine}/dispose"),
        json!({}),
    )
    .await
    .assert_problem(409);

    // Another failed batch is disposed of: it leaves on hand with an adjustment.
    app.set_stock(&seller, "TEE", 6).await;
    let second = post(
        &app,
        &seller,
        "/api/v1/qc/inspections",
        inspect(json!([false, false, true]), 2),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let q2 = second.body["quarantine"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.stock(&seller, "TEE").await["available"], 0);
    let disposed = post(
        &app,
        &seller,
        &format!("/api/v1/qc/quarantines/{q2}/dispose"),
        json!({}),
    )
    .await;
    assert_eq!(disposed.status, StatusCode::OK, "{}", disposed.body);
    assert_eq!(disposed.body["status"], "disposed");
    let level = app.stock(&seller, "TEE").await;
    assert_eq!(
        (
            level["on_hand"].as_i64(),
            level["reserved"].as_i64(),
            level["available"].as_i64()
        ),
        (Some(4), Some(4), Some(0)),
        "{level}"
    );
    let movements = get(&app, &seller, "/api/v1/inventory/TEE/movements").await;
    let last = &movements.body["items"][0];
    assert_eq!(
        (last["kind"].as_str(), last["on_hand_delta"].as_i64()),
        (Some("adjustment"), Some(-2))
    );
    assert_eq!(last["reference"], format!("quarantine:{q2}"));
    let all = get(&app, &seller, "/api/v1/qc/quarantines").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
}

async fn another_tenants_receiving_counts_and_quarantines_answer_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.signup("A Co").await;
    let b = app.signup("B Co").await;
    app.create_product(&a, "TEE").await;
    app.set_stock(&a, "TEE", 5).await;
    seed_bin(&app, &a, "A-01", &[("TEE", 5, true)]).await;
    let asn = post(&app, &a, "/api/v1/inbound-shipments", json!({ "reference": "PO-1", "warehouse": "MAIN", "lines": [{ "sku": "TEE", "expected": 1 }] })).await;
    let asn_id = asn.body["id"].as_str().unwrap().to_owned();
    post(
        &app,
        &a,
        &format!("/api/v1/inbound-shipments/{asn_id}/receive"),
        scan(1, "TEE", 1, false),
    )
    .await;
    let closed = post(
        &app,
        &a,
        &format!("/api/v1/inbound-shipments/{asn_id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let task = closed.body["put_away"][0]["task_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let count = post(
        &app,
        &a,
        "/api/v1/warehouse/counts",
        json!({ "warehouse": "MAIN", "bin": "A-01" }),
    )
    .await;
    let count_id = count.body["id"].as_str().unwrap().to_owned();
    let checklist = post(
        &app,
        &a,
        "/api/v1/qc/checklists",
        json!({ "name": "In", "stage": "receipt", "items": ["ok"] }),
    )
    .await;
    let checklist_id = checklist.body["id"].as_str().unwrap().to_owned();
    let failed = post(&app, &a, "/api/v1/qc/inspections", json!({ "checklist": checklist_id, "sku": "TEE", "warehouse": "MAIN", "quantity": 1, "answers": [false] })).await;
    let quarantine = failed.body["quarantine"]["id"].as_str().unwrap().to_owned();

    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/inbound-shipments/{asn_id}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/inbound-shipments/{asn_id}/receive"),
            Some(scan(2, "TEE", 1, false)),
        ),
        (
            Method::POST,
            format!("/api/v1/inbound-shipments/{asn_id}/close"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/warehouse/put-away-tasks/{task}/confirm"),
            Some(json!({ "bin": "A-01" })),
        ),
        (
            Method::GET,
            format!("/api/v1/warehouse/counts/{count_id}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/warehouse/counts/{count_id}/lines"),
            Some(json!({ "sku": "TEE", "counted": 1 })),
        ),
        (
            Method::POST,
            format!("/api/v1/warehouse/counts/{count_id}/submit"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/qc/quarantines/{quarantine}/release"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/qc/quarantines/{quarantine}/dispose"),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/v1/qc/inspections".to_owned(),
            Some(
                json!({ "checklist": checklist_id, "sku": "TEE", "warehouse": "MAIN", "quantity": 1, "answers": [true] }),
            ),
        ),
        (
            Method::GET,
            "/api/v1/inbound-shipments/not-an-id".to_owned(),
            None,
        ),
    ] {
        let reply = send(&app, &b, method.clone(), &path, body).await;
        assert_eq!(reply.assert_problem(404), "not-found", "{method} {path}");
    }
    for path in [
        "/api/v1/inbound-shipments",
        "/api/v1/qc/quarantines",
        "/api/v1/qc/checklists",
    ] {
        let listed = get(&app, &b, path).await;
        assert!(
            listed.body["items"].as_array().unwrap().is_empty(),
            "{path}: {}",
            listed.body
        );
    }
    // A's quarantine is untouched.
    assert_eq!(app.stock(&a, "TEE").await["available"], 5);
}

async fn keyed(app: &TestApp, seller: &Seller, path: &str, key: &str, body: Value) -> Reply {
    app.raw(
        app.client
            .post(app.url(path))
            .bearer_auth(&seller.api_key)
            .header("Idempotency-Key", key)
            .json(&body),
    )
    .await
}

async fn an_idempotency_key_creates_an_asn_and_quarantines_units_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Keyed Co").await;
    app.create_product(&seller, "TEE").await;
    app.set_stock(&seller, "TEE", 5).await;
    let asn = json!({ "reference": "PO-9", "warehouse": "MAIN", "lines": [{ "sku": "TEE", "expected": 3 }] });
    let first = keyed(
        &app,
        &seller,
        "/api/v1/inbound-shipments",
        "asn-1",
        asn.clone(),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = keyed(&app, &seller, "/api/v1/inbound-shipments", "asn-1", asn).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    let listed = get(&app, &seller, "/api/v1/inbound-shipments").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let other = json!({ "reference": "PO-10", "warehouse": "MAIN", "lines": [{ "sku": "TEE", "expected": 3 }] });
    let reused = keyed(&app, &seller, "/api/v1/inbound-shipments", "asn-1", other).await;
    assert_eq!(reused.assert_problem(422), "idempotency-key-reused");

    let checklist = post(
        &app,
        &seller,
        "/api/v1/qc/checklists",
        json!({ "name": "In", "stage": "receipt", "items": ["ok"] }),
    )
    .await;
    let inspection = json!({ "checklist": checklist.body["id"], "sku": "TEE", "warehouse": "MAIN", "quantity": 2, "answers": [false] });
    let failed = keyed(
        &app,
        &seller,
        "/api/v1/qc/inspections",
        "qc-1",
        inspection.clone(),
    )
    .await;
    assert_eq!(failed.status, StatusCode::CREATED, "{}", failed.body);
    let replayed = keyed(&app, &seller, "/api/v1/qc/inspections", "qc-1", inspection).await;
    assert_eq!(replayed.status, StatusCode::CREATED, "{}", replayed.body);
    assert_eq!(replayed.body["id"], failed.body["id"]);
    assert_eq!(
        replayed.body["quarantine"]["id"],
        failed.body["quarantine"]["id"]
    );
    assert_eq!(replayed.body["outcome"], "quarantined");
    // Quarantined once: 2 of 5 out of available, not 4.
    assert_eq!(app.stock(&seller, "TEE").await["available"], 3);
}
