//! The EasyPost v2 API (<https://docs.easypost.com>) as a `warehouse::ShippingCarrier`.
//!
//! One EasyPost account reaches many carriers, so one [`EasyPost`] returns rates of USPS, UPS,
//! FedEx... each named by its own carrier in [`Rate::carrier`]. Calls:
//! `POST /v2/shipments` (rates), `POST /v2/shipments/{id}/buy`, `POST /v2/shipments/{id}/refund`
//! (void), `GET /v2/trackers/{id}` or `POST /v2/trackers` (track). HTTP Basic auth, the API key
//! as user name.

use crate::money::{parse_decimal, to_decimal};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Address, Currency};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;
use warehouse::{
    CarrierError, CustomsLine, LabelDocument, LabelFormat, LabelPurchase, Parcel, Rate,
    RateRequest, ShippingCarrier, TrackingEvent, TrackingRef, TrackingStatus,
};

/// How to reach EasyPost.
#[derive(Clone)]
pub struct EasyPostConfig {
    /// `https://api.easypost.com` in production; a fake server's URL in tests.
    pub base_url: String,
    /// Test keys start `EZTK`, production keys `EZAK`. Never printed.
    pub api_key: String,
    /// For the whole of one HTTP exchange.
    pub timeout: Duration,
    /// Extra attempts for idempotent calls after a 5xx, a 429 or a connection error.
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one.
    pub backoff: Duration,
}

impl EasyPostConfig {
    pub const PRODUCTION_URL: &'static str = "https://api.easypost.com";

    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            base_url: Self::PRODUCTION_URL.to_owned(),
            api_key: api_key.into(),
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: Duration::from_millis(250),
        }
    }
}

impl fmt::Debug for EasyPostConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EasyPostConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"***")
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .finish()
    }
}

/// The EasyPost adapter. Cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct EasyPost {
    http: reqwest::Client,
    config: EasyPostConfig,
}

/// Whether a call may be sent again after a failure that might have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Reading, or a call whose repeat has the same effect (a refund of one shipment).
    Idempotent,
    /// Creates something (a shipment, a purchase): sent once.
    Once,
}

const CARRIER: &str = "EasyPost";

impl EasyPost {
    pub fn new(config: EasyPostConfig) -> Result<Self, CarrierError> {
        if config.api_key.trim().is_empty() {
            return Err(CarrierError::Unauthorized {
                message: "no EasyPost API key is configured; set one (EZTK... for test, EZAK... for production)".into(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tote-carriers/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CarrierError::Protocol {
                message: format!("could not build the HTTP client: {e}"),
            })?;
        Ok(Self { http, config })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    #[tracing::instrument(skip_all, fields(method = %method, path = path))]
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Value, CarrierError> {
        let attempts = match retry {
            Retry::Idempotent => self.config.retries + 1,
            Retry::Once => 1,
        };
        let mut wait = self.config.backoff;
        let mut attempt = 1;
        loop {
            match self.send_once(method.clone(), path, body).await {
                Err(Failure::Retryable(e)) if attempt < attempts => {
                    tracing::warn!(attempt, error = %e, "EasyPost call failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                    attempt += 1;
                }
                Err(Failure::Retryable(e)) | Err(Failure::Final(e)) => {
                    return Err(match (e, retry, attempts) {
                        (CarrierError::Unavailable { message }, Retry::Once, _) => {
                            CarrierError::Unavailable {
                                message: format!(
                                    "{message}. The call was not repeated because it creates something at EasyPost: check the shipment there before trying again"
                                ),
                            }
                        }
                        (CarrierError::Unavailable { message }, Retry::Idempotent, n) if n > 1 => {
                            CarrierError::Unavailable {
                                message: format!("{message} (gave up after {n} attempts)"),
                            }
                        }
                        (e, _, _) => e,
                    });
                }
                Ok(v) => return Ok(v),
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .basic_auth(&self.config.api_key, None::<&str>)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            let what = if e.is_timeout() {
                format!("EasyPost did not answer within {:?}", self.config.timeout)
            } else if e.is_connect() {
                format!("could not connect to EasyPost at {}", self.config.base_url)
            } else {
                format!("the request to EasyPost failed: {e}")
            };
            Failure::Retryable(CarrierError::Unavailable {
                message: format!("{what}; try again later or choose another carrier"),
            })
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| {
            Failure::Retryable(CarrierError::Unavailable {
                message: format!("EasyPost's answer was cut off ({e}); try again later"),
            })
        })?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| {
                Failure::Final(CarrierError::Protocol {
                    message: format!(
                        "EasyPost answered {status} with a body that is not JSON ({e}); report this"
                    ),
                })
            });
        }
        Err(error_for(status, &text))
    }
}

enum Failure {
    Retryable(CarrierError),
    Final(CarrierError),
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<FieldProblem>,
}

#[derive(Deserialize)]
struct FieldProblem {
    #[serde(default)]
    field: String,
    #[serde(default)]
    message: String,
}

/// An EasyPost error answer as a [`CarrierError`] whose message says what to do.
fn error_for(status: StatusCode, body: &str) -> Failure {
    let detail = serde_json::from_str::<ErrorBody>(body)
        .map(|b| b.error)
        .unwrap_or_default();
    let mut said = if detail.message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        detail.message.clone()
    };
    if !detail.errors.is_empty() {
        let fields: Vec<String> = detail
            .errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        said = format!("{said} ({})", fields.join("; "));
    }
    let code = if detail.code.is_empty() {
        String::new()
    } else {
        format!(" [{}]", detail.code)
    };
    match status.as_u16() {
        401 | 403 => Failure::Final(CarrierError::Unauthorized {
            message: format!(
                "EasyPost refused the API key ({status}{code}: {said}); check the configured key (EZTK... for test, EZAK... for production)"
            ),
        }),
        404 => Failure::Final(CarrierError::NotFound {
            message: format!("EasyPost does not know it ({status}{code}: {said})"),
        }),
        429 => Failure::Retryable(CarrierError::Unavailable {
            message: format!("EasyPost is rate-limiting us ({said}); try again in a minute"),
        }),
        500..=599 => Failure::Retryable(CarrierError::Unavailable {
            message: format!(
                "EasyPost failed on its side ({status}{code}: {said}); try again later or choose another carrier"
            ),
        }),
        _ => Failure::Final(CarrierError::Rejected {
            message: format!(
                "EasyPost rejected the request ({status}{code}: {said}); correct it and try again"
            ),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Units: EasyPost takes inches and ounces with one decimal. Integer arithmetic, rounded up so a
// parcel is never declared smaller or lighter than it is (carriers charge adjustments for that).

/// Millimetres to tenths of an inch, rounded up: 1 in = 25.4 mm exactly.
pub fn mm_to_tenth_inches(mm: u32) -> u64 {
    (u64::from(mm) * 100).div_ceil(254)
}

/// Grams to tenths of an ounce, rounded up: 1 oz = 28.349523125 g exactly.
pub fn g_to_tenth_ounces(g: u32) -> u64 {
    (u64::from(g) * 10 * 1_000_000_000).div_ceil(28_349_523_125)
}

/// A count of tenths as a JSON number (`81` → `8.1`); the printed form is exact.
fn tenths(n: u64) -> Value {
    json!(n as f64 / 10.0)
}

fn address(a: &Address) -> Value {
    json!({
        "name": a.name,
        "company": a.company,
        "street1": a.line1,
        "street2": a.line2,
        "city": a.city,
        "state": a.region,
        "zip": a.postal_code,
        "country": a.country,
        "phone": a.phone,
        "email": a.email,
    })
}

fn parcel(p: &Parcel) -> Value {
    json!({
        "length": tenths(mm_to_tenth_inches(p.length_mm)),
        "width": tenths(mm_to_tenth_inches(p.width_mm)),
        "height": tenths(mm_to_tenth_inches(p.height_mm)),
        "weight": tenths(g_to_tenth_ounces(p.weight_g)),
    })
}

fn customs_info(req: &RateRequest) -> Value {
    let items: Vec<Value> = req.customs.iter().map(customs_item).collect();
    json!({
        "contents_type": "merchandise",
        "customs_certify": true,
        "customs_signer": req.ship_from.0.name,
        "eel_pfc": "NOEEI 30.37(a)",
        "non_delivery_option": "return",
        "restriction_type": "none",
        "customs_items": items,
    })
}

fn customs_item(line: &CustomsLine) -> Value {
    json!({
        "description": line.description,
        "quantity": line.quantity,
        "value": to_decimal(line.value),
        "currency": line.value.currency.as_str(),
        "weight": tenths(g_to_tenth_ounces(line.weight_g)),
        "hs_tariff_number": line.hs_code,
        "origin_country": line.origin_country,
    })
}

/// The body of `POST /v2/shipments` for a request.
pub fn shipment_body(req: &RateRequest) -> Value {
    let mut shipment = json!({
        "reference": req.reference,
        "to_address": address(&req.ship_to.0),
        "from_address": address(&req.ship_from.0),
        "parcel": parcel(&req.parcel),
        "options": { "currency": req.currency.as_str() },
    });
    if req.is_international() || !req.customs.is_empty() {
        shipment["customs_info"] = customs_info(req);
    }
    json!({ "shipment": shipment })
}

// ---------------------------------------------------------------------------------------------
// Answers

#[derive(Deserialize)]
struct Shipment {
    id: String,
    #[serde(default)]
    rates: Vec<EpRate>,
    #[serde(default)]
    messages: Vec<Value>,
    tracking_code: Option<String>,
    postage_label: Option<PostageLabel>,
    selected_rate: Option<EpRate>,
    tracker: Option<Tracker>,
    refund_status: Option<String>,
}

#[derive(Deserialize)]
struct EpRate {
    id: String,
    carrier: String,
    service: String,
    rate: String,
    currency: String,
    delivery_days: Option<u32>,
    est_delivery_days: Option<u32>,
}

#[derive(Deserialize)]
struct PostageLabel {
    label_url: Option<String>,
    label_file_type: Option<String>,
}

#[derive(Deserialize)]
struct Tracker {
    id: String,
    #[serde(default)]
    status: String,
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    tracking_details: Vec<TrackingDetail>,
}

#[derive(Deserialize)]
struct TrackingDetail {
    datetime: DateTime<Utc>,
    status: String,
    #[serde(default)]
    message: Option<String>,
    tracking_location: Option<TrackingLocation>,
}

#[derive(Deserialize)]
struct TrackingLocation {
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
}

fn read<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, CarrierError> {
    serde_json::from_value(value).map_err(|e| CarrierError::Protocol {
        message: format!("EasyPost's {what} is not in the documented shape ({e}); report this"),
    })
}

/// Our rate id carries EasyPost's shipment id, which `buy` needs: `shp_...:rate_...`.
fn rate_id(shipment_id: &str, rate_id: &str) -> String {
    format!("{shipment_id}:{rate_id}")
}

fn split_rate_id(raw: &str) -> Result<(&str, &str), CarrierError> {
    raw.split_once(':')
        .filter(|(s, r)| s.starts_with("shp_") && r.starts_with("rate_"))
        .ok_or_else(|| CarrierError::Rejected {
            message: format!(
                "{raw:?} is not an EasyPost rate id (shp_...:rate_...); ask for rates again"
            ),
        })
}

fn convert_rate(shipment_id: &str, r: &EpRate) -> Result<Rate, CarrierError> {
    let currency = Currency::parse(&r.currency).map_err(|e| CarrierError::Protocol {
        message: format!("EasyPost rate {} has currency {:?}: {e}", r.id, r.currency),
    })?;
    let price = parse_decimal(&r.rate, currency).map_err(|e| CarrierError::Protocol {
        message: format!("EasyPost rate {} has price {e}", r.id),
    })?;
    Ok(Rate {
        carrier: r.carrier.clone(),
        service: r.service.clone(),
        price,
        transit_days: r.delivery_days.or(r.est_delivery_days),
        rate_id: rate_id(shipment_id, &r.id),
    })
}

/// EasyPost's tracker statuses in ours.
pub fn tracking_status(raw: &str) -> TrackingStatus {
    match raw {
        "in_transit" => TrackingStatus::InTransit,
        "out_for_delivery" | "available_for_pickup" => TrackingStatus::OutForDelivery,
        "delivered" => TrackingStatus::Delivered,
        "return_to_sender" => TrackingStatus::Returned,
        "failure" | "cancelled" | "error" => TrackingStatus::Failure,
        // "unknown", "pre_transit" and anything new: nothing has happened yet that we know of.
        _ => TrackingStatus::PreTransit,
    }
}

fn label_format(file_type: Option<&str>) -> LabelFormat {
    match file_type.unwrap_or("image/png") {
        "application/pdf" => LabelFormat::Pdf,
        "application/zpl" => LabelFormat::Zpl,
        "application/epl2" => LabelFormat::Epl2,
        _ => LabelFormat::Png,
    }
}

fn events(tracker: Tracker) -> Vec<TrackingEvent> {
    let mut events: Vec<TrackingEvent> = tracker
        .tracking_details
        .into_iter()
        .map(|d| TrackingEvent {
            at: d.datetime,
            status: tracking_status(&d.status),
            message: d.message.unwrap_or_default(),
            location: d.tracking_location.and_then(|l| {
                let parts: Vec<String> = [l.city, l.state, l.country]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            }),
        })
        .collect();
    events.sort_by_key(|e| e.at);
    if events.is_empty() {
        events.push(TrackingEvent {
            at: tracker.updated_at.unwrap_or_else(Utc::now),
            status: tracking_status(&tracker.status),
            message: format!("EasyPost reports {}", tracker.status),
            location: None,
        });
    }
    events
}

#[async_trait]
impl ShippingCarrier for EasyPost {
    fn name(&self) -> &str {
        CARRIER
    }

    async fn rates(&self, req: &RateRequest) -> Result<Vec<Rate>, CarrierError> {
        let answer = self
            .call(
                Method::POST,
                "/v2/shipments",
                Some(&shipment_body(req)),
                Retry::Once,
            )
            .await?;
        let shipment: Shipment = read(answer, "shipment")?;
        if shipment.rates.is_empty() && !shipment.messages.is_empty() {
            tracing::info!(messages = ?shipment.messages, "EasyPost returned no rates");
        }
        shipment
            .rates
            .iter()
            .map(|r| convert_rate(&shipment.id, r))
            .collect()
    }

    async fn buy(&self, _req: &RateRequest, rate: &Rate) -> Result<LabelPurchase, CarrierError> {
        let (shipment_id, ep_rate) = split_rate_id(&rate.rate_id)?;
        let answer = self
            .call(
                Method::POST,
                &format!("/v2/shipments/{shipment_id}/buy"),
                Some(&json!({ "rate": { "id": ep_rate } })),
                Retry::Once,
            )
            .await?;
        let shipment: Shipment = read(answer, "bought shipment")?;
        let tracking_number = shipment
            .tracking_code
            .ok_or_else(|| CarrierError::Protocol {
                message: format!(
                    "EasyPost bought shipment {} without a tracking code; check it there",
                    shipment.id
                ),
            })?;
        let selected = shipment
            .selected_rate
            .ok_or_else(|| CarrierError::Protocol {
                message: format!(
                    "EasyPost bought shipment {} without a selected rate",
                    shipment.id
                ),
            })?;
        let selected = convert_rate(&shipment.id, &selected)?;
        let label = match shipment.postage_label {
            Some(PostageLabel {
                label_url: Some(url),
                label_file_type,
            }) => LabelDocument::Remote {
                url,
                format: label_format(label_file_type.as_deref()),
            },
            _ => LabelDocument::SelfRendered,
        };
        Ok(LabelPurchase {
            tracking_number,
            carrier: selected.carrier,
            service: selected.service,
            price: selected.price,
            label,
            carrier_shipment_id: shipment.id,
            tracker_id: shipment.tracker.map(|t| t.id),
        })
    }

    async fn void(&self, purchase: &LabelPurchase) -> Result<(), CarrierError> {
        let answer = self
            .call(
                Method::POST,
                &format!("/v2/shipments/{}/refund", purchase.carrier_shipment_id),
                None,
                Retry::Idempotent,
            )
            .await?;
        let shipment: Shipment = read(answer, "refunded shipment")?;
        match shipment.refund_status.as_deref() {
            Some("submitted") | Some("refunded") => Ok(()),
            Some("rejected") => Err(CarrierError::Rejected {
                message: format!(
                    "{} refused to void label {}: it has probably been scanned already",
                    purchase.carrier, purchase.tracking_number
                ),
            }),
            other => Err(CarrierError::Protocol {
                message: format!("EasyPost answered a refund with refund_status {other:?}"),
            }),
        }
    }

    async fn track(&self, tracking: &TrackingRef) -> Result<Vec<TrackingEvent>, CarrierError> {
        let answer = match &tracking.tracker_id {
            Some(id) => {
                self.call(
                    Method::GET,
                    &format!("/v2/trackers/{id}"),
                    None,
                    Retry::Idempotent,
                )
                .await?
            }
            None => {
                let body = json!({ "tracker": {
                    "tracking_code": tracking.tracking_number,
                    "carrier": tracking.carrier,
                }});
                self.call(Method::POST, "/v2/trackers", Some(&body), Retry::Once)
                    .await?
            }
        };
        Ok(events(read(answer, "tracker")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_weights_convert_exactly_and_round_up() {
        assert_eq!(mm_to_tenth_inches(254), 100); // 10 in exactly
        assert_eq!(mm_to_tenth_inches(255), 101); // a hair over: next tenth
        assert_eq!(mm_to_tenth_inches(1), 1);
        assert_eq!(mm_to_tenth_inches(0), 0);
        assert_eq!(g_to_tenth_ounces(28), 10); // 0.988 oz → 1.0
        assert_eq!(g_to_tenth_ounces(28_349), 10_000); // 999.98 oz → 1000.0
        assert_eq!(g_to_tenth_ounces(454), 161); // 16.014 oz → 16.1
        assert_eq!(g_to_tenth_ounces(1_000), 353); // 35.274 oz → 35.3
        assert_eq!(g_to_tenth_ounces(2_835), 1_001); // 100.0017 oz → 100.1
        assert_eq!(tenths(81).to_string(), "8.1");
        assert_eq!(tenths(100).to_string(), "10.0");
    }

    #[test]
    fn tracker_statuses_map_onto_ours() {
        for (raw, ours) in [
            ("unknown", TrackingStatus::PreTransit),
            ("pre_transit", TrackingStatus::PreTransit),
            ("in_transit", TrackingStatus::InTransit),
            ("out_for_delivery", TrackingStatus::OutForDelivery),
            ("available_for_pickup", TrackingStatus::OutForDelivery),
            ("delivered", TrackingStatus::Delivered),
            ("return_to_sender", TrackingStatus::Returned),
            ("failure", TrackingStatus::Failure),
            ("cancelled", TrackingStatus::Failure),
        ] {
            assert_eq!(tracking_status(raw), ours, "{raw}");
        }
    }

    #[test]
    fn a_422_names_the_fields_and_a_401_names_the_key() {
        let body = r#"{"error":{"code":"ADDRESS.VERIFY.FAILURE","message":"Unable to verify address.","errors":[{"field":"zip","message":"Invalid ZIP"}]}}"#;
        let Failure::Final(CarrierError::Rejected { message }) =
            error_for(StatusCode::UNPROCESSABLE_ENTITY, body)
        else {
            panic!("not a rejection")
        };
        assert!(
            message.contains("Unable to verify address. (zip: Invalid ZIP)"),
            "{message}"
        );
        let Failure::Final(CarrierError::Unauthorized { message }) =
            error_for(StatusCode::UNAUTHORIZED, "not json")
        else {
            panic!("not unauthorized")
        };
        assert!(message.contains("API key"), "{message}");
        assert!(matches!(
            error_for(StatusCode::BAD_GATEWAY, ""),
            Failure::Retryable(CarrierError::Unavailable { .. })
        ));
    }

    #[test]
    fn the_api_key_never_prints() {
        let config = EasyPostConfig::new("EZTKsecret");
        assert!(!format!("{config:?}").contains("secret"));
        assert!(EasyPost::new(EasyPostConfig::new(" ")).is_err());
    }
}
