//! A local, stateful fake of the EasyPost v2 API, written from its public documentation, for
//! tests here and in the app (`carriers = { workspace = true, features = ["fake"] }`).
//!
//! ```no_run
//! # async fn demo() {
//! use carriers::fake::FakeEasyPost;
//! use carriers::{EasyPost, EasyPostConfig};
//! let fake = FakeEasyPost::start().await;
//! let mut config = EasyPostConfig::new(fake.api_key());
//! config.base_url = fake.base_url().to_owned();
//! let easypost = EasyPost::new(config).unwrap();
//! // ... buy a label, then move the parcel along:
//! fake.advance("EZ1000000001", "delivered");
//! # }
//! ```
//!
//! What it does: keeps shipments, rates priced from the parcel's weight (USPS GroundAdvantage,
//! Priority and Express; UPS Ground without a delivery estimate; international services when
//! the countries differ), buys labels (tracking codes `EZ1000000001`, `EZ1000000002`, ...),
//! refunds unscanned labels, and keeps trackers that move on when a test calls
//! [`FakeEasyPost::advance`]. It answers a wrong API key with 401 and a malformed request with
//! 422, both in EasyPost's `{"error":{"code","message","errors"}}` shape, and can be told to
//! fail or stall the next requests ([`FakeEasyPost::fail_next`], [`FakeEasyPost::stall_next`]).

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The key the fake accepts unless told otherwise.
pub const TEST_API_KEY: &str = "EZTK_fake_test_key";

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    /// What the fake answered.
    pub status: u16,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Status(u16),
    Stall(Duration),
}

#[derive(Default)]
struct State {
    next_id: u64,
    next_tracking: u64,
    shipments: HashMap<String, Value>,
    /// tracker id → tracker object
    trackers: HashMap<String, Value>,
    faults: VecDeque<Fault>,
    seen: Vec<SeenRequest>,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:032x}", self.next_id)
    }
}

/// The running fake. It stops when dropped.
pub struct FakeEasyPost {
    base_url: String,
    api_key: String,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for FakeEasyPost {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeEasyPost {
    /// Serves on `127.0.0.1:0`, accepting [`TEST_API_KEY`].
    pub async fn start() -> Self {
        Self::start_with_key(TEST_API_KEY).await
    }

    pub async fn start_with_key(api_key: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{api_key}:"))
        );
        let shared = state.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                let expected = expected.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        let expected = expected.clone();
                        async move { Ok::<_, Infallible>(handle(&state, &expected, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            base_url: format!("http://{addr}"),
            api_key: api_key.to_owned(),
            state,
            server,
        }
    }

    /// `http://127.0.0.1:<port>`, to put in `EasyPostConfig::base_url`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Moves the parcel with this tracking code to `status` (an EasyPost tracker status:
    /// `in_transit`, `out_for_delivery`, `delivered`, `return_to_sender`, `failure`...), adding a
    /// tracking detail. False when no tracker has that code.
    pub fn advance(&self, tracking_code: &str, status: &str) -> bool {
        let mut state = lock(&self.state);
        let Some(tracker) = state
            .trackers
            .values_mut()
            .find(|t| t["tracking_code"] == tracking_code)
        else {
            return false;
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let message = match status {
            "in_transit" => "Arrived at sort facility",
            "out_for_delivery" => "Out for delivery",
            "delivered" => "Delivered, front door",
            "return_to_sender" => "Returned to sender",
            "failure" => "Delivery attempt failed",
            _ => "Status updated",
        };
        tracker["status"] = json!(status);
        tracker["updated_at"] = json!(now);
        if let Some(details) = tracker["tracking_details"].as_array_mut() {
            details.push(json!({
                "object": "TrackingDetail",
                "datetime": now,
                "status": status,
                "message": message,
                "source": "FakeEasyPost",
                "tracking_location": {
                    "object": "TrackingLocation",
                    "city": "NEW YORK", "state": "NY", "country": "US", "zip": "10012"
                }
            }));
        }
        true
    }

    /// The next `n` requests get `status` (e.g. 500 or 503) with an EasyPost error body.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut state = lock(&self.state);
        state
            .faults
            .extend(std::iter::repeat_n(Fault::Status(status), n));
    }

    /// The next `n` requests wait `delay` before they are answered (to test time-outs).
    pub fn stall_next(&self, n: usize, delay: Duration) {
        let mut state = lock(&self.state);
        state
            .faults
            .extend(std::iter::repeat_n(Fault::Stall(delay), n));
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.state).seen.clone()
    }

    /// A stored shipment as the API would return it.
    pub fn shipment(&self, id: &str) -> Option<Value> {
        lock(&self.state).shipments.get(id).cloned()
    }
}

fn reply(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let errors: Vec<Value> = fields
        .iter()
        .map(|(f, m)| json!({"field": f, "message": m}))
        .collect();
    (
        status,
        json!({"error": {"code": code, "message": message, "errors": errors}}),
    )
}

async fn handle(
    state: &Mutex<State>,
    expected_auth: &str,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let fault = lock(state).faults.pop_front();
    if let Some(Fault::Stall(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    let authorised = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(expected_auth);
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let (status, answer) = match (fault, body) {
        (Some(Fault::Status(code)), _) => error(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "INTERNAL_SERVER_ERROR",
            "We're sorry, something went wrong. If the problem persists please contact support.",
            &[],
        ),
        _ if !authorised => error(
            StatusCode::UNAUTHORIZED,
            "APIKEY.INACTIVE",
            "The API key provided is not valid or is inactive.",
            &[],
        ),
        (_, Err(_)) => error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "The request body could not be read.",
            &[],
        ),
        (_, Ok(bytes)) => {
            let body = if bytes.is_empty() {
                Ok(json!({}))
            } else {
                serde_json::from_slice::<Value>(&bytes)
            };
            match body {
                Err(_) => error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "PARAMETER.INVALID",
                    "The request body is not valid JSON.",
                    &[],
                ),
                Ok(body) => route(&mut lock(state), &method, &path, &body),
            }
        }
    };
    lock(state).seen.push(SeenRequest {
        method: method.to_string(),
        path,
        status: status.as_u16(),
    });
    reply(status, &answer)
}

fn route(state: &mut State, method: &Method, path: &str, body: &Value) -> (StatusCode, Value) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::POST, ["v2", "shipments"]) => create_shipment(state, body),
        (&Method::GET, ["v2", "shipments", id]) => match state.shipments.get(*id) {
            Some(s) => (StatusCode::OK, s.clone()),
            None => not_found("shipment"),
        },
        (&Method::POST, ["v2", "shipments", id, "buy"]) => buy(state, id, body),
        (&Method::POST, ["v2", "shipments", id, "refund"]) => refund(state, id),
        (&Method::POST, ["v2", "trackers"]) => create_tracker(state, body),
        (&Method::GET, ["v2", "trackers", id]) => match state.trackers.get(*id) {
            Some(t) => (StatusCode::OK, t.clone()),
            None => not_found("tracker"),
        },
        _ => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("The requested resource {method} {path} could not be found."),
            &[],
        ),
    }
}

fn not_found(what: &str) -> (StatusCode, Value) {
    error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("The requested {what} could not be found."),
        &[],
    )
}

fn positive(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| *x > 0.0)
}

fn create_shipment(state: &mut State, body: &Value) -> (StatusCode, Value) {
    let shipment = &body["shipment"];
    if !shipment.is_object() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            &[("shipment", "is required")],
        );
    }
    let mut problems: Vec<(&str, &str)> = Vec::new();
    for side in ["to_address", "from_address"] {
        let a = &shipment[side];
        if !a.is_object() {
            problems.push((side, "is required"));
            continue;
        }
        for field in ["street1", "city", "country"] {
            if a[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                problems.push((side, "street1, city and country are required"));
                break;
            }
        }
    }
    let parcel = &shipment["parcel"];
    let weight_oz = positive(&parcel["weight"]);
    if weight_oz.is_none() {
        problems.push(("parcel.weight", "must be a number of ounces above 0"));
    }
    for dim in ["length", "width", "height"] {
        if !parcel[dim].is_null() && positive(&parcel[dim]).is_none() {
            problems.push(("parcel", "length, width and height must be positive inches"));
            break;
        }
    }
    let from = shipment["from_address"]["country"].as_str().unwrap_or("US");
    let to = shipment["to_address"]["country"].as_str().unwrap_or("US");
    let international = !from.eq_ignore_ascii_case(to);
    if international && !shipment["customs_info"].is_object() {
        problems.push(("customs_info", "is required for international shipments"));
    }
    if !problems.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "SHIPMENT.INVALID_PARAMS",
            "Unable to create shipment, one or more parameters were invalid.",
            &problems,
        );
    }
    let id = state.id("shp");
    // Prices in cents from the weight rounded up to whole ounces; one rate without an estimate.
    let oz = weight_oz.unwrap_or(1.0).ceil() as i64;
    let services: Vec<(&str, &str, i64, Option<u32>)> = if international {
        vec![
            (
                "USPS",
                "FirstClassPackageInternationalService",
                1_450 + 60 * oz,
                Some(10),
            ),
            (
                "USPS",
                "PriorityMailInternational",
                4_200 + 80 * oz,
                Some(6),
            ),
            ("USPS", "ExpressMailInternational", 6_900 + 95 * oz, Some(4)),
        ]
    } else {
        vec![
            ("USPS", "GroundAdvantage", 450 + 30 * oz, Some(5)),
            ("USPS", "Priority", 800 + 45 * oz, Some(2)),
            ("USPS", "Express", 2_600 + 90 * oz, Some(1)),
            ("UPS", "Ground", 420 + 28 * oz, None),
        ]
    };
    let rates: Vec<Value> = services
        .into_iter()
        .map(|(carrier, service, cents, days)| {
            json!({
                "object": "Rate",
                "id": state.id("rate"),
                "shipment_id": id,
                "carrier": carrier,
                "carrier_account_id": format!("ca_fake_{}", carrier.to_ascii_lowercase()),
                "service": service,
                "rate": format!("{}.{:02}", cents / 100, cents % 100),
                "currency": "USD",
                "delivery_days": days,
                "est_delivery_days": days,
                "delivery_date_guaranteed": false,
                "mode": "test",
            })
        })
        .collect();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let stored = json!({
        "object": "Shipment",
        "id": id,
        "mode": "test",
        "created_at": now,
        "reference": shipment["reference"],
        "to_address": shipment["to_address"],
        "from_address": shipment["from_address"],
        "parcel": shipment["parcel"],
        "customs_info": shipment["customs_info"],
        "rates": rates,
        "messages": [],
        "selected_rate": null,
        "postage_label": null,
        "tracking_code": null,
        "tracker": null,
        "refund_status": null,
        "status": "unknown",
    });
    state.shipments.insert(id.clone(), stored.clone());
    (StatusCode::OK, stored)
}

fn buy(state: &mut State, id: &str, body: &Value) -> (StatusCode, Value) {
    let Some(rate_id) = body["rate"]["id"].as_str().map(str::to_owned) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            &[("rate.id", "is required")],
        );
    };
    let Some(shipment) = state.shipments.get(id).cloned() else {
        return not_found("shipment");
    };
    if !shipment["tracking_code"].is_null() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "SHIPMENT.POSTAGE.EXISTS",
            "The shipment has already been purchased.",
            &[],
        );
    }
    let Some(rate) = shipment["rates"]
        .as_array()
        .and_then(|rates| rates.iter().find(|r| r["id"] == rate_id.as_str()))
        .cloned()
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "SHIPMENT.RATE.INVALID",
            "The rate is not one of this shipment's rates.",
            &[("rate.id", "is not a rate of this shipment")],
        );
    };
    state.next_tracking += 1;
    let tracking_code = format!("EZ{:010}", 1_000_000_000 + state.next_tracking);
    let tracker_id = state.id("trk");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let tracker = json!({
        "object": "Tracker",
        "id": tracker_id,
        "mode": "test",
        "tracking_code": tracking_code,
        "carrier": rate["carrier"],
        "shipment_id": id,
        "status": "pre_transit",
        "updated_at": now,
        "tracking_details": [{
            "object": "TrackingDetail",
            "datetime": now,
            "status": "pre_transit",
            "message": "Pre-Shipment Info Sent to USPS",
            "source": "FakeEasyPost",
            "tracking_location": {"object": "TrackingLocation", "city": null, "state": null, "country": null, "zip": null}
        }],
    });
    state.trackers.insert(tracker_id, tracker.clone());
    let label_id = state.id("pl");
    let Some(stored) = state.shipments.get_mut(id) else {
        return not_found("shipment");
    };
    stored["selected_rate"] = rate;
    stored["tracking_code"] = json!(tracking_code);
    stored["tracker"] = tracker;
    stored["status"] = json!("pre_transit");
    stored["postage_label"] = json!({
        "object": "PostageLabel",
        "id": label_id,
        "label_file_type": "image/png",
        "label_size": "4x6",
        "label_url": format!("https://easypost-files.example/files/postage_label/{label_id}.png"),
        "label_date": now,
    });
    (StatusCode::OK, stored.clone())
}

fn refund(state: &mut State, id: &str) -> (StatusCode, Value) {
    let Some(shipment) = state.shipments.get(id) else {
        return not_found("shipment");
    };
    if shipment["tracking_code"].is_null() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "SHIPMENT.REFUND.UNAVAILABLE",
            "The shipment has not been purchased, so it cannot be refunded.",
            &[],
        );
    }
    let tracker_id = shipment["tracker"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let scanned = state
        .trackers
        .get(&tracker_id)
        .is_some_and(|t| !matches!(t["status"].as_str(), Some("pre_transit" | "unknown")));
    let Some(shipment) = state.shipments.get_mut(id) else {
        return not_found("shipment");
    };
    if shipment["refund_status"].is_null() {
        shipment["refund_status"] = json!(if scanned { "rejected" } else { "submitted" });
    }
    (StatusCode::OK, shipment.clone())
}

fn create_tracker(state: &mut State, body: &Value) -> (StatusCode, Value) {
    let Some(code) = body["tracker"]["tracking_code"].as_str().map(str::to_owned) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            &[("tracker.tracking_code", "is required")],
        );
    };
    // Like EasyPost, a second tracker for the same code is the first one.
    if let Some(existing) = state
        .trackers
        .values()
        .find(|t| t["tracking_code"] == code.as_str())
    {
        return (StatusCode::OK, existing.clone());
    }
    let id = state.id("trk");
    let tracker = json!({
        "object": "Tracker",
        "id": id,
        "mode": "test",
        "tracking_code": code,
        "carrier": body["tracker"]["carrier"],
        "status": "unknown",
        "updated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "tracking_details": [],
    });
    state.trackers.insert(id, tracker.clone());
    (StatusCode::OK, tracker)
}
