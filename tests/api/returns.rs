//! Returns (RMA) over HTTP: request → approve → receive → inspect (restock or dispose) →
//! refund; restocked units can be sold again and disposed ones cannot; an exchange places a
//! linked replacement order; bad requests change nothing.

use crate::lifecycle::eventually;
use crate::on_both_databases;
use e2e::{Seller, TestApp, order_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Backend;

on_both_databases!(
    a_return_restocks_good_units_disposes_the_rest_and_records_the_refund,
    an_exchange_places_a_linked_replacement_order_on_approval,
    bad_return_requests_are_refused_and_change_nothing,
);

async fn send(
    app: &TestApp,
    seller: &Seller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> e2e::Reply {
    app.call(method, path, Some(&seller.api_key), body).await
}

/// Places an order for `lines`, then picks, packs and ships all of it in one parcel.
async fn shipped_order(app: &TestApp, seller: &Seller, lines: &[(&str, i64)]) -> String {
    let placed = app.place_order(seller, order_body(lines)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
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
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.body);
    }
    let parcel: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (_, q))| json!({ "line_no": i + 1, "quantity": q }))
        .collect();
    let shipped = send(
        app,
        seller,
        Method::POST,
        &format!("/api/v1/orders/{id}/shipments"),
        Some(json!({ "carrier": "ups", "tracking_number": "1Z999", "lines": parcel })),
    )
    .await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{}", shipped.body);
    id
}

async fn a_return_restocks_good_units_disposes_the_rest_and_records_the_refund(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Returns Co").await;
    app.create_product(&seller, "MUG").await;
    app.set_stock(&seller, "MUG", 10).await;
    let order_id = shipped_order(&app, &seller, &[("MUG", 3)]).await;
    assert_eq!(app.stock(&seller, "MUG").await["on_hand"], 7);

    let opened = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/returns"),
        Some(json!({ "lines": [{ "line_no": 1, "quantity": 3, "reason": "damaged", "note": "box crushed" }] })),
    )
    .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    assert_eq!(opened.body["status"], "requested");
    assert!(
        opened.body["rma_number"]
            .as_str()
            .unwrap()
            .starts_with("RMA-")
    );
    let rid = opened.body["id"].as_str().unwrap().to_owned();
    let at = |tail: &str| format!("/api/v1/returns/{rid}{tail}");

    // The same units cannot be asked for twice while this return is open.
    let twice = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/returns"),
        Some(json!({ "lines": [{ "line_no": 1, "quantity": 1, "reason": "other" }] })),
    )
    .await;
    assert_eq!(twice.assert_problem(400), "validation-error");

    // Receiving before approval is out of order.
    let early = send(
        &app,
        &seller,
        Method::POST,
        &at("/receive"),
        Some(json!({ "lines": [{ "line_no": 1, "quantity": 3 }] })),
    )
    .await;
    assert_eq!(early.assert_problem(409), "illegal-transition");

    let approved = send(&app, &seller, Method::POST, &at("/approve"), None).await;
    assert_eq!(approved.body["status"], "approved", "{}", approved.body);
    let received = send(
        &app,
        &seller,
        Method::POST,
        &at("/receive"),
        Some(json!({ "lines": [{ "line_no": 1, "quantity": 3 }] })),
    )
    .await;
    assert_eq!(received.body["status"], "received", "{}", received.body);
    let order = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}"),
        None,
    )
    .await;
    assert_eq!(order.body["lines"][0]["returned"], 3);
    // Nothing is back on the shelf until it has been inspected.
    assert_eq!(app.stock(&seller, "MUG").await["on_hand"], 7);

    // An order waiting for mugs: 7 on the shelf, 1 backordered.
    let mut waiting = order_body(&[("MUG", 8)]);
    waiting["allow_backorder"] = json!(true);
    let waiting = app.place_order(&seller, waiting).await;
    assert_eq!(
        waiting.body["lines"][0]["backordered"], 1,
        "{}",
        waiting.body
    );
    let waiting_id = waiting.body["id"].as_str().unwrap().to_owned();

    // Inspection that does not account for every unit is refused.
    let uneven = send(
        &app,
        &seller,
        Method::POST,
        &at("/inspect"),
        Some(json!({ "lines": [{ "line_no": 1, "restock": 1, "dispose": 1 }] })),
    )
    .await;
    assert_eq!(uneven.assert_problem(400), "validation-error");
    let inspected = send(
        &app,
        &seller,
        Method::POST,
        &at("/inspect"),
        Some(json!({ "lines": [{ "line_no": 1, "restock": 2, "dispose": 1 }] })),
    )
    .await;
    assert_eq!(inspected.body["status"], "inspected", "{}", inspected.body);
    assert_eq!(inspected.body["lines"][0]["restocked"], 2);
    assert_eq!(inspected.body["lines"][0]["disposed"], 1);

    // Restocked units go back on the shelf, the waiting backorder takes one of them, and the
    // disposed unit never becomes available.
    let filled = eventually(&app, &seller, &waiting_id, |o| {
        o["lines"][0]["backordered"] == 0
    })
    .await;
    assert_eq!(filled["status"], "allocated", "{filled}");
    let stock = app.stock(&seller, "MUG").await;
    assert_eq!(stock["on_hand"], 9, "{stock}");
    assert_eq!(stock["reserved"], 8, "{stock}");
    assert_eq!(stock["available"], 1, "{stock}");
    let movements = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/inventory/MUG/movements",
        None,
    )
    .await;
    let restocked: Vec<&Value> = movements.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "return")
        .collect();
    assert_eq!(restocked.len(), 1, "{}", movements.body);
    assert_eq!(restocked[0]["on_hand_delta"], 2);

    // The refund defaults to what the received units cost and never exceeds it.
    let too_much = send(
        &app,
        &seller,
        Method::POST,
        &at("/refund"),
        Some(json!({ "amount_minor": 6000 })),
    )
    .await;
    assert_eq!(too_much.assert_problem(400), "validation-error");
    let refunded = send(&app, &seller, Method::POST, &at("/refund"), None).await;
    assert_eq!(refunded.body["status"], "refunded", "{}", refunded.body);
    assert_eq!(
        refunded.body["refund"],
        json!({ "amount_minor": 5997, "currency": "GBP" })
    );
    let again = send(&app, &seller, Method::POST, &at("/refund"), None).await;
    assert_eq!(again.assert_problem(409), "illegal-transition");

    // Lists and the order's timeline show it.
    let listed = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/returns?status=refunded",
        None,
    )
    .await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        listed.body
    );
    let of_order = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{order_id}/returns"),
        None,
    )
    .await;
    assert_eq!(of_order.body["items"][0]["id"], rid.as_str());
}

async fn an_exchange_places_a_linked_replacement_order_on_approval(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Swap Co").await;
    for sku in ["TEE-M", "TEE-L"] {
        app.create_product(&seller, sku).await;
        app.set_stock(&seller, sku, 5).await;
    }
    let order_id = shipped_order(&app, &seller, &[("TEE-M", 1)]).await;
    let opened = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{order_id}/returns"),
        Some(
            json!({ "lines": [{ "line_no": 1, "quantity": 1, "reason": "wrong_item" }],
                     "exchange": [{ "sku": "TEE-L", "quantity": 1 }] }),
        ),
    )
    .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    assert!(opened.body["replacement_order_id"].is_null());
    let rid = opened.body["id"].as_str().unwrap();

    let approved = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/returns/{rid}/approve"),
        None,
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let replacement = approved.body["replacement_order_id"]
        .as_str()
        .expect("linked order")
        .to_owned();
    let order = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/orders/{replacement}"),
        None,
    )
    .await;
    assert_eq!(order.body["status"], "allocated", "{}", order.body);
    assert_eq!(order.body["channel"], "exchange");
    assert_eq!(order.body["external_id"], approved.body["rma_number"]);
    assert_eq!(order.body["lines"][0]["sku"], "TEE-L");
    assert_eq!(order.body["total"]["amount_minor"], 0);
    assert_eq!(order.body["ship_to"]["city"], "London");
    assert_eq!(app.stock(&seller, "TEE-L").await["reserved"], 1);
}

async fn bad_return_requests_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let seller = app.signup("Strict Co").await;
    app.create_product(&seller, "CUP").await;
    app.set_stock(&seller, "CUP", 5).await;

    // Nothing shipped yet: no return.
    let placed = app.place_order(&seller, order_body(&[("CUP", 2)])).await;
    let unshipped = placed.body["id"].as_str().unwrap();
    let early = send(
        &app,
        &seller,
        Method::POST,
        &format!("/api/v1/orders/{unshipped}/returns"),
        Some(json!({ "lines": [{ "line_no": 1, "quantity": 1, "reason": "damaged" }] })),
    )
    .await;
    assert_eq!(early.assert_problem(409), "order-not-returnable");

    let order_id = shipped_order(&app, &seller, &[("CUP", 2)]).await;
    let path = format!("/api/v1/orders/{order_id}/returns");
    for (body, field) in [
        (
            json!({ "lines": [{ "line_no": 1, "quantity": 3, "reason": "damaged" }] }),
            "lines[0].quantity",
        ),
        (
            json!({ "lines": [{ "line_no": 9, "quantity": 1, "reason": "damaged" }] }),
            "lines[0].line_no",
        ),
        (
            json!({ "lines": [{ "line_no": 1, "quantity": 1, "reason": "bored" }] }),
            "lines[0].reason",
        ),
        (json!({ "lines": [] }), "lines"),
        (
            json!({ "lines": [{ "line_no": 1, "quantity": 1, "reason": "other" }], "exchange": [{ "sku": "", "quantity": 1 }] }),
            "exchange[0].sku",
        ),
    ] {
        let r = send(&app, &seller, Method::POST, &path, Some(body)).await;
        assert_eq!(r.assert_problem(400), "validation-error", "{}", r.body);
        assert!(r.body.to_string().contains(field), "{field} in {}", r.body);
    }
    // Mass assignment: a status in the body is refused, not applied.
    let sneaky = send(
        &app,
        &seller,
        Method::POST,
        &path,
        Some(json!({ "lines": [{ "line_no": 1, "quantity": 1, "reason": "other" }], "status": "refunded" })),
    )
    .await;
    assert!(sneaky.status.is_client_error(), "{}", sneaky.body);
    let garbage = send(
        &app,
        &seller,
        Method::POST,
        "/api/v1/returns/not-an-id/approve",
        None,
    )
    .await;
    assert_eq!(garbage.assert_problem(404), "not-found");
    let none = send(&app, &seller, Method::GET, &path, None).await;
    assert_eq!(none.body["items"], json!([]), "{}", none.body);
    let bad_filter = send(
        &app,
        &seller,
        Method::GET,
        "/api/v1/returns?status=lost",
        None,
    )
    .await;
    assert_eq!(bad_filter.assert_problem(400), "bad-request");

    // Another tenant cannot see or touch it.
    let opened = send(
        &app,
        &seller,
        Method::POST,
        &path,
        Some(json!({ "lines": [{ "line_no": 1, "quantity": 1, "reason": "other" }] })),
    )
    .await;
    let rid = opened.body["id"].as_str().unwrap();
    let other = app.signup("Other Co").await;
    for (method, tail) in [(Method::GET, ""), (Method::POST, "/approve")] {
        let r = send(
            &app,
            &other,
            method,
            &format!("/api/v1/returns/{rid}{tail}"),
            None,
        )
        .await;
        assert_eq!(r.assert_problem(404), "not-found");
    }
    let mine = send(
        &app,
        &seller,
        Method::GET,
        &format!("/api/v1/returns/{rid}"),
        None,
    )
    .await;
    assert_eq!(mine.body["status"], "requested");
}
