//! The whole floor, end to end, against the local fake of the EasyPost API: an allocated order
//! is picked by scan from its bin, packed by scan into the suggested box, its label is bought
//! from the aggregator as packing finishes, the carrier's tracking delivers it. Stock, bin
//! stock and the ledger are checked at every step; the label's barcode is decoded.

use crate::lifecycle::eventually;
use crate::on_both_databases;
use crate::{code128, pdf};
use carriers::fake::FakeEasyPost;
use e2e::{Seller, TestApp, order_body, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(an_allocated_order_is_picked_packed_labelled_shipped_and_delivered,);

const MUG_GTIN: &str = "4006381333931";

async fn call(
    app: &TestApp,
    seller: &Seller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let r = app.call(method, path, Some(&seller.api_key), body).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    r.body
}

/// on_hand, reserved and what bin A-01 holds of MUG.
async fn levels(app: &TestApp, seller: &Seller) -> (i64, i64, i64) {
    let stock = app.stock(seller, "MUG").await;
    let bins = call(app, seller, Method::GET, "/api/v1/inventory/MUG/bins", None).await;
    let in_bin = bins["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["bin"] == "A-01")
        .map_or(0, |b| b["quantity"].as_i64().unwrap());
    (
        stock["on_hand"].as_i64().unwrap(),
        stock["reserved"].as_i64().unwrap(),
        in_bin,
    )
}

/// The stock levels still equal the fold of the ledger.
async fn ledger_agrees(app: &TestApp, seller: &Seller) {
    let check = call(app, seller, Method::POST, "/api/v1/ledger/rebuild", None).await;
    assert_eq!(check["drift"], json!([]), "{check}");
}

async fn an_allocated_order_is_picked_packed_labelled_shipped_and_delivered(backend: Backend) {
    let fake = FakeEasyPost::start().await;
    let app = spawn_app_with(
        backend,
        &[
            ("TOTE_EASYPOST_API_KEY", fake.api_key()),
            ("TOTE_EASYPOST_URL", fake.base_url()),
        ],
    )
    .await;
    let seller = app.signup("Floor Co").await;
    // Where parcels ship from: the default warehouse's address.
    let main = call(
        &app,
        &seller,
        Method::PATCH,
        "/api/v1/warehouses/MAIN",
        Some(
            json!({ "address": { "name": "Floor Co", "line1": "100 Dock St", "city": "Newark",
                                  "region": "NJ", "postal_code": "07105", "country": "US" } }),
        ),
    )
    .await;
    assert_eq!(main["address"]["city"], "Newark");
    call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/products",
        Some(
            json!({ "sku": "MUG", "name": "Mug", "barcode": MUG_GTIN, "weight_grams": 350,
                     "dimensions": { "length_mm": 120, "width_mm": 90, "height_mm": 100 } }),
        ),
    )
    .await;
    app.set_stock(&seller, "MUG", 10).await;
    call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouses/MAIN/bins",
        Some(json!({ "code": "A-01", "walk_order": 1 })),
    )
    .await;
    call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/put-away",
        Some(json!({ "warehouse": "MAIN", "bin": "A-01", "sku": "MUG", "quantity": 10, "preferred": true })),
    )
    .await;
    for (code, l, w, h) in [("S", 150, 100, 100), ("M", 300, 250, 150)] {
        call(
            &app,
            &seller,
            Method::POST,
            "/api/v1/boxes",
            Some(json!({ "code": code, "length_mm": l, "width_mm": w, "height_mm": h,
                         "max_weight_g": 10000, "cost": { "amount_minor": 60, "currency": "USD" } })),
        )
        .await;
    }

    // An allocated order, in dollars to New York.
    let mut body = order_body(&[("MUG", 2)]);
    body["ship_to"] = json!({ "name": "Grace Hopper", "line1": "1 Broadway", "city": "New York",
                              "region": "NY", "postal_code": "10004", "country": "US" });
    body["lines"][0]["unit_price"]["currency"] = json!("USD");
    let placed = app.place_order(&seller, body).await;
    assert_eq!(placed.body["status"], "allocated", "{}", placed.body);
    let order_id = placed.body["id"].as_str().unwrap().to_owned();
    assert_eq!(levels(&app, &seller).await, (10, 2, 10));

    // Pick list, one scan for both mugs; a replayed scan does nothing more.
    let lists = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/picklists",
        Some(json!({ "order_ids": [order_id] })),
    )
    .await;
    let list = lists["items"][0]["id"].as_str().unwrap().to_owned();
    let scan = json!({ "scan_id": uuid::Uuid::now_v7(), "bin": "A-01", "barcode": MUG_GTIN, "quantity": 2 });
    let picked = call(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/picklists/{list}/scan"),
        Some(scan.clone()),
    )
    .await;
    assert_eq!(picked["outcome"], "complete", "{picked}");
    call(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/picklists/{list}/scan"),
        Some(scan),
    )
    .await;
    let order = call(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}"),
        None,
    )
    .await;
    assert_eq!(order["status"], "picking");
    // Out of the bin, still on hand and reserved until the parcel leaves.
    assert_eq!(levels(&app, &seller).await, (10, 2, 8));
    ledger_agrees(&app, &seller).await;

    // Pack: the smallest box that fits two mugs is M; scan both, weigh, buy the label.
    let session = call(
        &app,
        &seller,
        Method::POST,
        "/api/v1/warehouse/pack-sessions",
        Some(json!({ "order_id": order_id })),
    )
    .await;
    assert_eq!(session["suggested"]["box"]["code"], "M", "{session}");
    let sid = session["id"].as_str().unwrap().to_owned();
    call(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/pack-sessions/{sid}/scan"),
        Some(json!({ "scan_id": uuid::Uuid::now_v7(), "barcode": MUG_GTIN, "quantity": 2 })),
    )
    .await;
    let finished = call(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/warehouse/pack-sessions/{sid}/finish"),
        Some(json!({ "box": "M", "weight_g": 820, "buy_label": true })),
    )
    .await;
    assert!(finished["label_error"].is_null(), "{finished}");
    let tracking = finished["label"]["tracking_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let shipment_id = finished["label"]["shipment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        tracking.starts_with("EZ"),
        "bought at the aggregator: {tracking}"
    );
    let order = call(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}"),
        None,
    )
    .await;
    assert_eq!(order["status"], "shipped", "{order}");
    assert_eq!(order["lines"][0]["shipped"], 2);
    // The parcel left: on hand and reserved drop together; the ledger says `ship`.
    assert_eq!(levels(&app, &seller).await, (8, 0, 8));
    let movements = call(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/MUG/movements",
        None,
    )
    .await;
    assert_eq!(movements["items"][0]["kind"], "ship", "{movements}");
    ledger_agrees(&app, &seller).await;

    // The 4×6 label parses and its Code 128 barcode reads back as the tracking number.
    let pdf = app
        .call(
            Method::GET,
            &format!("/api/v1/shipments/{shipment_id}/label"),
            Some(&seller.api_key),
            None,
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let drawn = pdf::read(&pdf.bytes);
    let row = drawn.barcode_row();
    assert_eq!(
        code128::decode(&code128::element_widths(&row)).unwrap(),
        tracking
    );

    // The carrier delivers; the order follows, stock does not move again.
    assert!(fake.advance(&tracking, "in_transit"));
    assert!(fake.advance(&tracking, "delivered"));
    let tracked = call(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/shipments/{shipment_id}/tracking/refresh"),
        None,
    )
    .await;
    assert_eq!(tracked["label"]["status"], "delivered", "{tracked}");
    let delivered = eventually(&app, &seller, &order_id, |o| o["status"] == "delivered").await;
    assert_eq!(delivered["status"], "delivered", "{delivered}");
    assert_eq!(levels(&app, &seller).await, (8, 0, 8));
    ledger_agrees(&app, &seller).await;
}
