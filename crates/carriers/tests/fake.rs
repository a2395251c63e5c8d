//! The fake EasyPost server speaks the documented wire format, checked with a plain client.

use carriers::fake::{FakeEasyPost, TEST_API_KEY};
use serde_json::{Value, json};

async fn post(fake: &FakeEasyPost, key: &str, path: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", fake.base_url()))
        .basic_auth(key, None::<&str>)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_fake_answers_in_easyposts_error_shape() {
    let fake = FakeEasyPost::start().await;
    let (status, body) = post(&fake, "wrong", "/v2/shipments", "{}").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "APIKEY.INACTIVE");

    let (status, body) = post(&fake, TEST_API_KEY, "/v2/shipments", "{not json").await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let (status, body) = post(&fake, TEST_API_KEY, "/v2/shipments", r#"{"shipment":{}}"#).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["to_address", "from_address", "parcel.weight"]);

    let (status, body) = post(&fake, TEST_API_KEY, "/v2/nothing", "{}").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn the_fake_prices_rates_from_the_weight_as_decimal_strings() {
    let fake = FakeEasyPost::start().await;
    let address = json!({"street1": "1 Main St", "city": "Reno", "country": "US"});
    let shipment = |weight: f64| {
        json!({"shipment": {"to_address": address, "from_address": address,
            "parcel": {"weight": weight, "length": 10, "width": 8, "height": 4}}})
        .to_string()
    };
    let (status, light) = post(&fake, TEST_API_KEY, "/v2/shipments", &shipment(3.2)).await;
    assert_eq!(status, 200);
    assert!(light["id"].as_str().unwrap().starts_with("shp_"));
    let (_, heavy) = post(&fake, TEST_API_KEY, "/v2/shipments", &shipment(40.0)).await;
    let price = |s: &Value, service: &str| -> String {
        s["rates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service"] == service)
            .map(|r| r["rate"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(price(&light, "Priority"), "9.80"); // 800 + 45 × 4 oz
    assert_eq!(price(&heavy, "Priority"), "26.00"); // 800 + 45 × 40 oz
    assert!(
        light["rates"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("rate_")
    );
}
