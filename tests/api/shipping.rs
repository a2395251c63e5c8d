//! Shipping over HTTP against a local fake of the EasyPost API: a label bought for a packed
//! order ships it (stock and ledger follow), the PDF label carries the tracking number as a
//! Code 128 barcode that decodes, ZPL too; tracking moves the parcel and delivers the order;
//! the public tracking page shows status only. The tenant's own rate table answers the public
//! quote, limited per IP; bad requests change nothing.

use crate::lifecycle::eventually;
use crate::on_both_databases;
use crate::{code128, pdf};
use carriers::fake::FakeEasyPost;
use e2e::{Seller, TestApp, order_body, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(
    a_label_from_the_aggregator_ships_the_order_and_tracking_delivers_it,
    the_rate_table_prices_labels_and_answers_the_public_quote,
    bad_shipping_requests_are_refused_and_change_nothing,
    parcels_bought_through_the_aggregator_are_tracked_by_polling,
    an_international_parcel_gets_customs_lines_and_a_commercial_invoice,
);

async fn parcels_bought_through_the_aggregator_are_tracked_by_polling(backend: Backend) {
    let fake = FakeEasyPost::start().await;
    let app = spawn_app_with(
        backend,
        &[
            ("TOTE_EASYPOST_API_KEY", fake.api_key()),
            ("TOTE_EASYPOST_URL", fake.base_url()),
            ("TOTE_TRACKING_POLL_SECS", "1"),
        ],
    )
    .await;
    let seller = app.signup("Polled Co").await;
    let order_id = packed_us_order(&app, &seller, 1).await;
    let mut body = label_body(1);
    body["ship_from"] = json!({ "name": "Tote", "line1": "100 Dock St", "city": "Newark",
                                "region": "NJ", "postal_code": "07105", "country": "US" });
    let bought = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(body),
    )
    .await;
    assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.body);
    let tracking = bought.body["label"]["tracking_number"].as_str().unwrap();
    assert!(fake.advance(tracking, "delivered"));
    // Nobody asks: the poll notices and the order follows.
    let order = eventually(&app, &seller, &order_id, |o| o["status"] == "delivered").await;
    assert_eq!(order["status"], "delivered", "{order}");
}

async fn an_international_parcel_gets_customs_lines_and_a_commercial_invoice(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Export Co").await;
    let mut table = rate_table();
    table["zones"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "us", "countries": ["US"], "postcode_prefixes": [] }));
    table["bands"].as_array_mut().unwrap().push(
        json!({ "zone": "us", "service": "standard", "transit_days": 5,
        "bands": [ { "up_to_g": 5000, "price": { "amount_minor": 2500, "currency": "GBP" } } ] }),
    );
    let put = send(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/shipping/rate-table",
        Some(table),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let mut order = order_body(&[("MUG", 2)]);
    order["ship_to"] = json!({ "name": "Grace Hopper", "line1": "1 Broadway", "city": "New York",
                              "postal_code": "10004", "country": "US" });
    let order_id = packed_order_with(&app, &seller, order).await;
    let bought = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(label_body(2)),
    )
    .await;
    assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.body);
    let invoice_path = bought.body["label"]["commercial_invoice"]
        .as_str()
        .expect("an invoice for GB to US");
    let invoice = send(&app, &seller, Method::GET, invoice_path, None).await;
    assert_eq!(invoice.status, StatusCode::OK);
    let text = pdf::read(&invoice.bytes).all_text();
    assert!(text.contains("691200"), "the HS code is declared: {text}");
    assert!(
        text.contains("39.98"),
        "2 x 19.99 is the declared value: {text}"
    );
}

async fn send(
    app: &TestApp,
    seller: &Seller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> e2e::Reply {
    app.call(method, path, Some(&seller.api_key), body).await
}

fn warehouse_address() -> Value {
    json!({ "name": "Tote Fulfilment", "line1": "1 Dock Rd", "city": "London",
            "postal_code": "E16 2QD", "country": "GB", "phone": "+44 20 7946 0000" })
}

/// A packed order of `quantity` MUGs (weight 350 g each) from 10 in stock, to London in GBP.
async fn packed_order(app: &TestApp, seller: &Seller, quantity: i64) -> String {
    packed_order_with(app, seller, order_body(&[("MUG", quantity)])).await
}

/// The same, to New York in USD (the aggregator prices in dollars).
async fn packed_us_order(app: &TestApp, seller: &Seller, quantity: i64) -> String {
    let mut body = order_body(&[("MUG", quantity)]);
    body["ship_to"] = json!({ "name": "Grace Hopper", "line1": "1 Broadway", "city": "New York",
                              "region": "NY", "postal_code": "10004", "country": "US" });
    body["lines"][0]["unit_price"]["currency"] = json!("USD");
    packed_order_with(app, seller, body).await
}

async fn packed_order_with(app: &TestApp, seller: &Seller, body: Value) -> String {
    let product = send(
        app,
        seller,
        Method::POST,
        "/api/v1/products",
        Some(json!({ "sku": "MUG", "name": "Mug", "weight_grams": 350, "hs_code": "6912.00", "country_of_origin": "GB" })),
    )
    .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
    app.set_stock(seller, "MUG", 10).await;
    let placed = app.place_order(seller, body).await;
    assert_eq!(placed.body["status"], "allocated", "{}", placed.body);
    let id = placed.body["id"].as_str().unwrap().to_owned();
    for step in ["pick", "pack"] {
        let r = send(
            app,
            seller,
            Method::POST,
            &format!("/api/v1/orders/{id}/{step}"),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    id
}

fn label_body(quantity: i64) -> Value {
    json!({ "lines": [{ "line_no": 1, "quantity": quantity }],
            "parcel": { "weight_g": 800, "length_mm": 200, "width_mm": 150, "height_mm": 100 },
            "ship_from": warehouse_address() })
}

fn decoded_barcode(bytes: &[u8]) -> String {
    let drawn = pdf::read(bytes);
    let row = drawn.barcode_row();
    assert!(
        row.len() > 20,
        "the barcode row has only {} bars",
        row.len()
    );
    code128::decode(&code128::element_widths(&row)).expect("a Code 128 barcode")
}

async fn a_label_from_the_aggregator_ships_the_order_and_tracking_delivers_it(backend: Backend) {
    let fake = FakeEasyPost::start().await;
    let app = spawn_app_with(
        backend,
        &[
            ("TOTE_EASYPOST_API_KEY", fake.api_key()),
            ("TOTE_EASYPOST_URL", fake.base_url()),
        ],
    )
    .await;
    let seller = app.signup("Mug Co").await;
    let order_id = packed_us_order(&app, &seller, 2).await;
    let before = app.stock(&seller, "MUG").await;
    assert_eq!(
        (before["on_hand"].as_i64(), before["reserved"].as_i64()),
        (Some(10), Some(2))
    );

    // Rate shopping picks the cheapest rate that meets the order's standard service level.
    let mut body = label_body(2);
    body["ship_from"] = json!({ "name": "Tote Fulfilment", "line1": "100 Dock St", "city": "Newark",
                                "region": "NJ", "postal_code": "07105", "country": "US" });
    let bought = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(body),
    )
    .await;
    assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.body);
    let tracking = bought.body["label"]["tracking_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(tracking.starts_with("EZ"), "{tracking}");
    assert_eq!(bought.body["order"]["status"], "shipped");
    assert_eq!(
        bought.body["shipment"]["tracking_number"],
        tracking.as_str()
    );
    assert!(
        bought.body["label"]["commercial_invoice"].is_null(),
        "US to US needs none"
    );
    let shipment_id = bought.body["label"]["shipment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = fake.requests();
    assert!(
        seen.iter().any(|r| r.path.ends_with("/buy")),
        "a label was bought at the fake"
    );

    // The units left stock; the ledger says so.
    let after = app.stock(&seller, "MUG").await;
    assert_eq!(
        (after["on_hand"].as_i64(), after["reserved"].as_i64()),
        (Some(8), Some(0)),
        "{after}"
    );
    let movements = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/MUG/movements",
        None,
    )
    .await;
    assert_eq!(
        movements.body["items"][0]["kind"], "ship",
        "{}",
        movements.body
    );
    assert_eq!(movements.body["items"][0]["on_hand_delta"], -2);

    // The PDF label parses and its barcode decodes to the tracking number; ZPL carries it too.
    let pdf = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/shipments/{shipment_id}/label?format=pdf"),
        None,
    )
    .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert_eq!(decoded_barcode(&pdf.bytes), tracking);
    let zpl = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/shipments/{shipment_id}/label?format=zpl"),
        None,
    )
    .await;
    let zpl = String::from_utf8(zpl.bytes.clone()).unwrap();
    assert!(
        zpl.starts_with("^XA") && zpl.contains("^BC") && zpl.contains(&tracking),
        "{zpl}"
    );

    // Tracking: in transit, then delivered — the order follows.
    assert!(fake.advance(&tracking, "in_transit"));
    let moving = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/shipments/{shipment_id}/tracking/refresh"),
        None,
    )
    .await;
    assert_eq!(
        moving.body["label"]["status"], "in_transit",
        "{}",
        moving.body
    );
    assert_eq!(
        send(
            &app,
            &seller,
            Method::GET,
            &format!("/api/v1/orders/{order_id}"),
            None
        )
        .await
        .body["status"],
        "shipped"
    );
    assert!(fake.advance(&tracking, "delivered"));
    let done = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/shipments/{shipment_id}/tracking/refresh"),
        None,
    )
    .await;
    assert_eq!(done.body["label"]["status"], "delivered", "{}", done.body);
    let order = eventually(&app, &seller, &order_id, |o| o["status"] == "delivered").await;
    assert_eq!(order["status"], "delivered", "{order}");
    // Stock did not move again.
    assert_eq!(app.stock(&seller, "MUG").await["on_hand"], 8);

    // The public page shows where the parcel is, and nothing of the address or price.
    let url = done.body["label"]["tracking_url"].as_str().unwrap();
    let public_path = &url[url.find("/track/").unwrap()..];
    let public = app.call(Method::GET, public_path, None, None).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    assert_eq!(public.body["status"], "delivered");
    assert!(
        public.body["events"].as_array().unwrap().len() >= 2,
        "{}",
        public.body
    );
    let text = public.body.to_string();
    for secret in [
        "New York",
        "Broadway",
        "Grace",
        "amount_minor",
        "10004",
        &order_id,
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let html = app
        .raw(
            reqwest::Client::new()
                .get(app.url(public_path))
                .header("accept", "text/html"),
        )
        .await;
    let html = String::from_utf8(html.bytes.clone()).unwrap();
    assert!(
        html.contains("delivered") && !html.contains("Broadway"),
        "{html}"
    );
    let unknown = app
        .call(
            Method::GET,
            "/track/trk_0123456789abcdef0123456789abcdef",
            None,
            None,
        )
        .await;
    assert_eq!(unknown.assert_problem(404), "not-found");

    // Another tenant cannot see or reprint it.
    let other = app.signup("Other Co").await;
    for path in [
        format!("/api/v1/shipments/{shipment_id}/label"),
        format!("/api/v1/shipments/{shipment_id}/tracking"),
    ] {
        let r = send(&app, &other, Method::GET, &path, None).await;
        assert_eq!(r.assert_problem(404), "not-found");
    }
}

fn rate_table() -> Value {
    json!({
        "carrier": "Mug Couriers",
        "zones": [
            { "name": "uk", "countries": ["GB"], "postcode_prefixes": [] },
            { "name": "london", "countries": ["GB"], "postcode_prefixes": ["E", "SW1"] }
        ],
        "bands": [
            { "zone": "uk", "service": "standard", "transit_days": 3,
              "bands": [ { "up_to_g": 1000, "price": { "amount_minor": 450, "currency": "GBP" } },
                         { "up_to_g": 5000, "price": { "amount_minor": 800, "currency": "GBP" } } ] },
            { "zone": "london", "service": "standard", "transit_days": 1,
              "bands": [ { "up_to_g": 5000, "price": { "amount_minor": 300, "currency": "GBP" } } ] },
            { "zone": "uk", "service": "overnight", "transit_days": 1,
              "bands": [ { "up_to_g": 5000, "price": { "amount_minor": 1500, "currency": "GBP" } } ] }
        ]
    })
}

async fn the_rate_table_prices_labels_and_answers_the_public_quote(backend: Backend) {
    let app = spawn_app_with(backend, &[("TOTE_QUOTES_PER_MINUTE", "2")]).await;
    let seller = app.signup("Table Co").await;
    let missing = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/shipping/rate-table",
        None,
    )
    .await;
    assert_eq!(missing.assert_problem(404), "not-found");
    let put = send(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/shipping/rate-table",
        Some(rate_table()),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let order_id = packed_order(&app, &seller, 1).await;

    // The public quote: 3 mugs (1050 g) to London — the most specific zone wins, cheapest first.
    let tenant = seller.tenant_id.clone();
    let quote = |postcode: &str| json!({ "tenant": tenant, "ship_to": { "country": "GB", "postal_code": postcode }, "lines": [{ "sku": "MUG", "quantity": 3 }] });
    let london = app
        .call(
            Method::POST,
            "/api/v1/shipping/quote",
            None,
            Some(quote("E1 6AN")),
        )
        .await;
    assert_eq!(london.status, StatusCode::OK, "{}", london.body);
    let prices: Vec<i64> = london.body["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["price"]["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(
        prices,
        vec![300],
        "London's own zone has only its standard service: {}",
        london.body
    );
    let leeds = app
        .call(
            Method::POST,
            "/api/v1/shipping/quote",
            None,
            Some(quote("LS1 4AP")),
        )
        .await;
    let prices: Vec<i64> = leeds.body["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["price"]["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(
        prices,
        vec![800, 1500],
        "1050 g is in the second UK band: {}",
        leeds.body
    );
    // The limit trips exactly at its number.
    let limited = app
        .call(
            Method::POST,
            "/api/v1/shipping/quote",
            None,
            Some(quote("E1 6AN")),
        )
        .await;
    assert_eq!(limited.assert_problem(429), "rate-limited");
    assert!(limited.header("retry-after").is_some());

    // A label from the table: its own tracking number, and pushed scans deliver the order.
    let bought = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(label_body(1)),
    )
    .await;
    assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.body);
    assert_eq!(
        bought.body["rate"]["price"]["amount_minor"], 300,
        "London standard: {}",
        bought.body
    );
    assert_eq!(bought.body["label"]["carrier"], "Mug Couriers");
    let tracking = bought.body["label"]["tracking_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(tracking.starts_with("TT"), "{tracking}");
    let shipment_id = bought.body["label"]["shipment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pdf = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/shipments/{shipment_id}/label"),
        None,
    )
    .await;
    assert_eq!(decoded_barcode(&pdf.bytes), tracking);
    let scans = json!({ "events": [
        { "at": "2026-12-01T18:00:00Z", "status": "delivered", "message": "Left with neighbour", "location": "London" },
        { "at": "2026-12-01T08:00:00Z", "status": "in_transit", "message": "Out of the depot" }
    ]});
    let pushed = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/shipments/{shipment_id}/tracking"),
        Some(scans.clone()),
    )
    .await;
    assert_eq!(
        pushed.body["label"]["status"], "delivered",
        "{}",
        pushed.body
    );
    assert_eq!(pushed.body["events"].as_array().unwrap().len(), 2);
    let again = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/shipments/{shipment_id}/tracking"),
        Some(scans),
    )
    .await;
    assert_eq!(
        again.body["events"].as_array().unwrap().len(),
        2,
        "the same scans are stored once"
    );
    let order = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}"),
        None,
    )
    .await;
    assert_eq!(order.body["status"], "delivered", "{}", order.body);
    // The parcel's own events are on the order's timeline: created once, updated once (the
    // repeated scans announced nothing).
    let timeline = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}/timeline"),
        None,
    )
    .await;
    let kinds: Vec<&str> = timeline
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "shipment.created").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "shipment.updated").count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"order.delivered"), "{kinds:?}");
}

async fn bad_shipping_requests_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Careful Co").await;
    let order_id = packed_order(&app, &seller, 1).await;

    // No carrier is set up: a clear answer, nothing shipped.
    let none = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(label_body(1)),
    )
    .await;
    assert_eq!(none.assert_problem(400), "validation-error");
    assert!(
        none.body.to_string().contains("rate-table"),
        "{}",
        none.body
    );

    let mut broken = rate_table();
    broken["bands"][0]["bands"][1]["up_to_g"] = json!(10);
    let refused = send(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/shipping/rate-table",
        Some(broken),
    )
    .await;
    assert_eq!(refused.assert_problem(400), "validation-error");
    let still_none = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/shipping/rate-table",
        None,
    )
    .await;
    assert_eq!(still_none.assert_problem(404), "not-found");
    send(
        &app,
        &seller,
        Method::PUT,
        "/api/v1/shipping/rate-table",
        Some(rate_table()),
    )
    .await;

    // Overnight to the UK zone costs 1500; asking for a service nobody offers is a 422.
    let mut body = label_body(1);
    body["parcel"]["weight_g"] = json!(0);
    let zero = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(body),
    )
    .await;
    assert_eq!(zero.assert_problem(400), "validation-error");
    let mut body = label_body(1);
    body["parcel"]["weight_g"] = json!(9000);
    let heavy = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(body),
    )
    .await;
    assert_eq!(heavy.assert_problem(422), "no-rate");
    let too_many = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/labels"),
        Some(label_body(5)),
    )
    .await;
    assert!(too_many.status.is_client_error(), "{}", too_many.body);
    let order = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}"),
        None,
    )
    .await;
    assert_eq!(
        order.body["status"], "packed",
        "nothing shipped: {}",
        order.body
    );
    assert_eq!(app.stock(&seller, "MUG").await["reserved"], 1);
    let shipments = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}/shipments"),
        None,
    )
    .await;
    assert_eq!(shipments.body, json!([]));

    // Garbage ids and formats.
    let garbage = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/shipments/nope/label",
        None,
    )
    .await;
    assert_eq!(garbage.assert_problem(404), "not-found");
    let path_escape = app
        .call(Method::GET, "/track/..%2F..%2Fetc", None, None)
        .await;
    assert_eq!(path_escape.assert_problem(404), "not-found");
    let bad_quote = app
        .call(Method::POST, "/api/v1/shipping/quote", None, Some(json!({ "tenant": seller.tenant_id, "ship_to": { "country": "Narnia" }, "lines": [{ "sku": "MUG", "quantity": 1 }] })))
        .await;
    assert_eq!(bad_quote.assert_problem(400), "validation-error");
    let unknown_shop = app
        .call(Method::POST, "/api/v1/shipping/quote", None, Some(json!({ "tenant": uuid::Uuid::now_v7(), "ship_to": { "country": "GB" }, "lines": [{ "sku": "MUG", "quantity": 1 }] })))
        .await;
    assert_eq!(unknown_shop.assert_problem(404), "not-found");
    let unknown_sku = app
        .call(Method::POST, "/api/v1/shipping/quote", None, Some(json!({ "tenant": seller.tenant_id, "ship_to": { "country": "GB" }, "lines": [{ "sku": "NOPE", "quantity": 1 }] })))
        .await;
    assert_eq!(unknown_sku.assert_problem(400), "validation-error");
}
