use super::*;
use crate::test_support::envelope;

fn summary(order_id: Uuid) -> Value {
    json!({
        "order_id": order_id, "channel": "shopify", "external_id": "#1001", "status": "allocated",
        "total": {"amount_minor": 2598, "currency": "GBP"},
        "lines": [{"line_no": 1, "sku": "SOCK-RED-M", "quantity": 2, "allocated": 2,
                   "unit_price": {"amount_minor": 1299, "currency": "GBP"}}],
    })
}

#[test]
fn an_order_created_event_asks_for_a_confirmation_with_the_order_summary() {
    let id = Uuid::now_v7();
    let t = trigger_for(&envelope("order.created", summary(id)))
        .unwrap()
        .unwrap();
    assert_eq!(t.kind, MessageKind::OrderConfirmed);
    assert_eq!(t.order_id, Some(id));
    assert_eq!(t.variables["order_ref"], "#1001");
    assert_eq!(t.variables["total"], "25.98 GBP");
    assert_eq!(
        t.variables["lines"],
        json!([{"line_no": 1, "sku": "SOCK-RED-M", "quantity": 2}])
    );
}

#[test]
fn an_order_shipped_event_brings_the_tracking_of_its_shipment() {
    let id = Uuid::now_v7();
    let mut payload = summary(id);
    payload["shipment"] = json!({
        "shipment_id": Uuid::now_v7(), "carrier": "DHL", "service": "express",
        "tracking_number": "JD014600003SE", "tracking_url": "https://dhl.example/JD014600003SE",
        "lines": [{"line_no": 1, "sku": "SOCK-RED-M", "quantity": 1}],
    });
    let t = trigger_for(&envelope("order.shipped", payload))
        .unwrap()
        .unwrap();
    assert_eq!(t.kind, MessageKind::OrderShipped);
    assert_eq!(t.variables["tracking_number"], "JD014600003SE");
    assert_eq!(t.variables["carrier"], "DHL");
    assert_eq!(t.variables["shipment_lines"][0]["quantity"], 1);
}

#[test]
fn a_shipped_event_without_its_shipment_is_malformed() {
    let err = trigger_for(&envelope("order.shipped", summary(Uuid::now_v7()))).unwrap_err();
    assert_eq!(err.field, "shipment");
}

#[test]
fn delivered_and_return_received_events_map_to_their_kinds() {
    let id = Uuid::now_v7();
    let d = trigger_for(&envelope("order.delivered", summary(id)))
        .unwrap()
        .unwrap();
    assert_eq!(d.kind, MessageKind::OrderDelivered);
    let r = trigger_for(&envelope(
        "return.received",
        json!({"return_id": Uuid::now_v7(), "order_id": id, "rma_number": "RMA-7",
               "lines": [{"line_no": 1, "sku": "SOCK-RED-M", "quantity": 1}]}),
    ))
    .unwrap()
    .unwrap();
    assert_eq!(r.kind, MessageKind::ReturnReceived);
    assert_eq!(r.order_id, Some(id));
    assert_eq!(r.variables["rma_number"], "RMA-7");
    // No external id on the event: the order id stands in.
    assert_eq!(r.variables["order_ref"], id.to_string());
}

#[test]
fn other_events_ask_for_nothing_and_a_missing_order_id_is_malformed() {
    assert_eq!(
        trigger_for(&envelope("order.cancelled", summary(Uuid::now_v7()))),
        Ok(None)
    );
    assert_eq!(
        trigger_for(&envelope("order.created", json!({"channel": "api"})))
            .unwrap_err()
            .field,
        "order_id"
    );
}

#[test]
fn money_is_shown_with_the_currency_decimals() {
    let m = |a: i64, c: &str| money(&json!({"amount_minor": a, "currency": c})).unwrap();
    assert_eq!(m(2598, "GBP"), "25.98 GBP");
    assert_eq!(m(5, "EUR"), "0.05 EUR");
    assert_eq!(m(1200, "JPY"), "1200 JPY");
    assert_eq!(m(1500, "KWD"), "1.500 KWD");
    assert_eq!(m(-250, "USD"), "-2.50 USD");
}
