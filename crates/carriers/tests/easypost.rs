//! The EasyPost adapter against the fake EasyPost server (`fake` feature): the whole shipping
//! flow, errors as the API gives them, retries and time-outs.

mod support;

use carriers::fake::{FakeEasyPost, TEST_API_KEY};
use carriers::label::{LabelData, label_pdf};
use carriers::{EasyPost, EasyPostConfig};
use std::time::Duration;
use support::{code128, pdf, request, usd};
use warehouse::{
    CarrierError, LabelDocument, LabelFormat, ServiceLevel, ShippingCarrier, TrackingStatus,
    pick_rate,
};

fn config(fake: &FakeEasyPost) -> EasyPostConfig {
    EasyPostConfig {
        base_url: fake.base_url().to_owned(),
        api_key: fake.api_key().to_owned(),
        timeout: Duration::from_secs(2),
        retries: 2,
        backoff: Duration::from_millis(10),
    }
}

fn easypost(fake: &FakeEasyPost) -> EasyPost {
    EasyPost::new(config(fake)).unwrap()
}

fn count(fake: &FakeEasyPost, method: &str, prefix: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn a_parcel_is_rated_bought_labelled_and_tracked_to_delivery() {
    let fake = FakeEasyPost::start().await;
    let carrier = easypost(&fake);
    let req = request("US", 1_250);

    let rates = carrier.rates(&req).await.unwrap();
    assert_eq!(rates.len(), 4);
    // 1250 g is 44.1 oz, priced by the fake as 45 whole ounces.
    let standard = pick_rate(&rates, ServiceLevel::Standard).unwrap();
    assert_eq!(
        (standard.carrier.as_str(), standard.service.as_str()),
        ("UPS", "Ground")
    );
    assert_eq!(standard.price, usd(420 + 28 * 45));
    assert_eq!(standard.transit_days, None);
    let overnight = pick_rate(&rates, ServiceLevel::Overnight).unwrap();
    assert_eq!(overnight.service, "Express");
    let expedited = pick_rate(&rates, ServiceLevel::Expedited).unwrap();
    assert_eq!(expedited.service, "Priority");
    assert_eq!(expedited.price, usd(800 + 45 * 45));
    assert_eq!(expedited.transit_days, Some(2));

    // What EasyPost received: inches and ounces, one decimal, rounded up.
    let (shipment_id, _) = expedited.rate_id.split_once(':').unwrap();
    let sent = fake.shipment(shipment_id).unwrap();
    assert_eq!(sent["parcel"]["weight"], 44.1);
    assert_eq!(sent["parcel"]["length"], 10.0);
    assert_eq!(sent["parcel"]["width"], 8.0);
    assert_eq!(sent["parcel"]["height"], 4.1);
    assert_eq!(sent["to_address"]["zip"], "10012");
    assert_eq!(sent["reference"], "ORD-1042");
    assert!(sent["customs_info"].is_null(), "domestic: no customs");

    let purchase = carrier.buy(&req, expedited).await.unwrap();
    assert_eq!(purchase.tracking_number, "EZ1000000001");
    assert_eq!(purchase.carrier, "USPS");
    assert_eq!(purchase.service, "Priority");
    assert_eq!(purchase.price, expedited.price);
    assert_eq!(purchase.carrier_shipment_id, shipment_id);
    assert!(matches!(
        &purchase.label,
        LabelDocument::Remote { url, format: LabelFormat::Png } if url.ends_with(".png")
    ));
    assert!(purchase.tracker_id.as_deref().unwrap().starts_with("trk_"));

    // Our own 4x6 label of the purchase carries a barcode that scans as the tracking code.
    let bytes = label_pdf(&LabelData::new(&req, &purchase)).unwrap();
    let row = pdf::read(&bytes).barcode_row();
    let scanned = code128::decode(&code128::element_widths(&row)).unwrap();
    assert_eq!(scanned, purchase.tracking_number);

    let tracking = purchase.tracking_ref();
    let events = carrier.track(&tracking).await.unwrap();
    assert_eq!(events.last().unwrap().status, TrackingStatus::PreTransit);

    for (status, ours) in [
        ("in_transit", TrackingStatus::InTransit),
        ("out_for_delivery", TrackingStatus::OutForDelivery),
        ("delivered", TrackingStatus::Delivered),
    ] {
        assert!(fake.advance(&purchase.tracking_number, status));
        let events = carrier.track(&tracking).await.unwrap();
        assert_eq!(events.last().unwrap().status, ours);
    }
    let events = carrier.track(&tracking).await.unwrap();
    assert_eq!(events.len(), 4);
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    let delivered = events.last().unwrap();
    assert_eq!(delivered.location.as_deref(), Some("NEW YORK, NY, US"));
    assert_eq!(delivered.message, "Delivered, front door");
    assert!(!fake.advance("EZ9999999999", "delivered"));
}

#[tokio::test]
async fn an_international_parcel_declares_its_customs_lines() {
    let fake = FakeEasyPost::start().await;
    let carrier = easypost(&fake);
    let req = request("GB", 800);
    let rates = carrier.rates(&req).await.unwrap();
    assert!(rates.iter().all(|r| r.service.contains("International")));
    let (shipment_id, _) = rates[0].rate_id.split_once(':').unwrap();
    let customs = &fake.shipment(shipment_id).unwrap()["customs_info"];
    assert_eq!(customs["customs_certify"], true);
    assert_eq!(customs["customs_signer"], "Tote Fulfilment");
    let item = &customs["customs_items"][0];
    assert_eq!(item["hs_tariff_number"], "6109.10");
    assert_eq!(item["origin_country"], "US");
    assert_eq!(item["value"], "30.00");
    assert_eq!(item["quantity"], 2);
    assert_eq!(item["weight"], 14.2); // 400 g = 14.11 oz, rounded up
}

#[tokio::test]
async fn a_wrong_api_key_is_a_clear_configuration_error_and_is_not_retried() {
    let fake = FakeEasyPost::start().await;
    let mut config = config(&fake);
    config.api_key = "EZTK_not_the_key".into();
    let carrier = EasyPost::new(config).unwrap();
    let err = carrier.rates(&request("US", 500)).await.unwrap_err();
    let CarrierError::Unauthorized { message } = &err else {
        panic!("expected Unauthorized, got {err:?}");
    };
    assert!(message.contains("refused the API key"), "{message}");
    assert!(message.contains("check the configured key"), "{message}");
    assert!(
        !message.contains("EZTK_not_the_key"),
        "the key must not leak: {message}"
    );
    assert!(!err.is_retryable());

    let tracking = warehouse::TrackingRef {
        tracking_number: "EZ1000000001".into(),
        carrier: "USPS".into(),
        tracker_id: Some("trk_1".into()),
    };
    assert!(matches!(
        carrier.track(&tracking).await,
        Err(CarrierError::Unauthorized { .. })
    ));
    assert_eq!(fake.requests().len(), 2, "a 401 is never retried");
    assert!(fake.requests().iter().all(|r| r.status == 401));
    assert_eq!(TEST_API_KEY, fake.api_key());
}

#[tokio::test]
async fn a_malformed_request_is_rejected_with_easyposts_field_errors() {
    let fake = FakeEasyPost::start().await;
    let carrier = easypost(&fake);
    let mut req = request("US", 0);
    req.ship_to.0.city = String::new();
    let err = carrier.rates(&req).await.unwrap_err();
    let CarrierError::Rejected { message } = &err else {
        panic!("expected Rejected, got {err:?}");
    };
    assert!(message.contains("422"), "{message}");
    assert!(
        message.contains("parcel.weight: must be a number of ounces above 0"),
        "{message}"
    );
    assert!(
        message.contains("to_address: street1, city and country are required"),
        "{message}"
    );
    assert!(message.contains("correct it and try again"), "{message}");

    // A rate id that is not EasyPost's is refused before any call.
    let mut rate = carrier.rates(&request("US", 500)).await.unwrap().remove(0);
    rate.rate_id = "rate_123".into();
    let before = fake.requests().len();
    assert!(matches!(
        carrier.buy(&request("US", 500), &rate).await,
        Err(CarrierError::Rejected { .. })
    ));
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn an_unscanned_label_can_be_voided_and_a_scanned_one_cannot() {
    let fake = FakeEasyPost::start().await;
    let carrier = easypost(&fake);
    let req = request("US", 500);
    let rates = carrier.rates(&req).await.unwrap();
    let first = carrier
        .buy(&req, pick_rate(&rates, ServiceLevel::Standard).unwrap())
        .await
        .unwrap();
    carrier.void(&first).await.unwrap();
    carrier.void(&first).await.unwrap(); // voiding again changes nothing
    assert_eq!(
        fake.shipment(&first.carrier_shipment_id).unwrap()["refund_status"],
        "submitted"
    );
    // A shipment's label is bought once.
    let again = carrier
        .buy(&req, pick_rate(&rates, ServiceLevel::Standard).unwrap())
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("already been purchased"),
        "{again}"
    );

    let rates = carrier.rates(&req).await.unwrap();
    let second = carrier.buy(&req, &rates[0]).await.unwrap();
    assert_eq!(second.tracking_number, "EZ1000000002");
    fake.advance(&second.tracking_number, "in_transit");
    let err = carrier.void(&second).await.unwrap_err();
    assert!(matches!(err, CarrierError::Rejected { .. }), "{err:?}");
    assert!(err.to_string().contains("scanned"), "{err}");

    let mut unknown = second.clone();
    unknown.carrier_shipment_id = "shp_nope".into();
    assert!(matches!(
        carrier.void(&unknown).await,
        Err(CarrierError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_server_error_on_a_read_is_retried_with_backoff_and_then_reported() {
    let fake = FakeEasyPost::start().await;
    let carrier = easypost(&fake);
    let req = request("US", 500);
    let rates = carrier.rates(&req).await.unwrap();
    let purchase = carrier.buy(&req, &rates[0]).await.unwrap();
    let tracking = purchase.tracking_ref();

    // Two failures, then success: the caller never sees them.
    fake.fail_next(2, 500);
    let events = carrier.track(&tracking).await.unwrap();
    assert_eq!(events[0].status, TrackingStatus::PreTransit);
    let gets: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.status)
        .collect();
    assert_eq!(gets, vec![500, 500, 200]);

    // More failures than retries: reported as unavailable, after 1 + 2 attempts.
    fake.fail_next(5, 503);
    let err = carrier.track(&tracking).await.unwrap_err();
    let CarrierError::Unavailable { message } = &err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(message.contains("503"), "{message}");
    assert!(message.contains("gave up after 3 attempts"), "{message}");
    assert!(message.contains("try again later"), "{message}");
    assert!(err.is_retryable());
    assert_eq!(count(&fake, "GET", "/v2/trackers/"), 6);
}

#[tokio::test]
async fn a_server_error_on_a_call_that_creates_something_is_not_repeated() {
    let fake = FakeEasyPost::start().await;
    let carrier = easypost(&fake);
    fake.fail_next(1, 500);
    let err = carrier.rates(&request("US", 500)).await.unwrap_err();
    assert!(err.is_retryable());
    assert!(err.to_string().contains("not repeated"), "{err}");
    assert_eq!(count(&fake, "POST", "/v2/shipments"), 1);
}

#[tokio::test]
async fn a_slow_or_absent_server_is_reported_as_unavailable() {
    let fake = FakeEasyPost::start().await;
    let mut config = config(&fake);
    config.timeout = Duration::from_millis(300);
    config.retries = 1;
    let carrier = EasyPost::new(config).unwrap();
    fake.stall_next(1, Duration::from_secs(2));
    let err = carrier.rates(&request("US", 500)).await.unwrap_err();
    assert!(err.to_string().contains("did not answer within"), "{err}");

    // A read that times out once is retried and succeeds.
    let rates = carrier.rates(&request("US", 500)).await.unwrap();
    let purchase = carrier.buy(&request("US", 500), &rates[0]).await.unwrap();
    fake.stall_next(1, Duration::from_secs(2));
    assert!(carrier.track(&purchase.tracking_ref()).await.is_ok());

    let base_url = fake.base_url().to_owned();
    drop(fake);
    let carrier = EasyPost::new(EasyPostConfig {
        base_url,
        api_key: TEST_API_KEY.into(),
        timeout: Duration::from_secs(1),
        retries: 0,
        backoff: Duration::from_millis(1),
    })
    .unwrap();
    let err = carrier.rates(&request("US", 500)).await.unwrap_err();
    assert!(err.to_string().contains("could not connect"), "{err}");
}

#[tokio::test]
async fn a_parcel_can_be_tracked_by_its_code_alone() {
    let fake = FakeEasyPost::start().await;
    let carrier = easypost(&fake);
    let req = request("US", 500);
    let rates = carrier.rates(&req).await.unwrap();
    let purchase = carrier.buy(&req, &rates[0]).await.unwrap();
    fake.advance(&purchase.tracking_number, "in_transit");
    let mut tracking = purchase.tracking_ref();
    tracking.tracker_id = None;
    let events = carrier.track(&tracking).await.unwrap();
    assert_eq!(events.last().unwrap().status, TrackingStatus::InTransit);

    // A code EasyPost has never seen: a tracker with status unknown, so pre-transit for us.
    tracking.tracking_number = "9400100000000000000000".into();
    let events = carrier.track(&tracking).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, TrackingStatus::PreTransit);
}
