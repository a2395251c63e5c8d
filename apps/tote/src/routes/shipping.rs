//! Shipping over HTTP: the tenant's rate table and the public quote it answers, buying a label
//! for an order's parcel, reprinting it (PDF 4×6 with a Code 128 barcode, or ZPL), the
//! commercial invoice, tracking (pushed, polled) and the public tracking page. Thin: parse,
//! call the shipping service, map.

use super::MoneyDto;
use super::fulfilment::ShipmentResponse;
use super::orders::{AddressDto, OrderResponse, path_order_id};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::shipping::LabelRequest;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use kernel::{ShipmentId, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warehouse::labels::{ShipmentLabel, is_public_id};
use warehouse::{Parcel, RateTable, ServiceLevel, ShipTo, TrackingEvent, TrackingStatus};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParcelDto {
    pub weight_g: u32,
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelLineDto {
    pub line_no: u32,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyLabelRequest {
    /// Which units leave in this parcel.
    pub lines: Vec<LabelLineDto>,
    pub parcel: ParcelDto,
    /// `standard`, `expedited` or `overnight`; defaults to the order's.
    pub service_level: Option<String>,
    /// Defaults to the default warehouse's address.
    pub ship_from: Option<AddressDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateDto {
    pub carrier: String,
    pub service: String,
    pub price: MoneyDto,
    pub transit_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelResponse {
    pub shipment_id: uuid::Uuid,
    pub carrier: String,
    pub service: String,
    pub service_level: String,
    pub tracking_number: String,
    /// The customer's tracking page.
    pub tracking_url: String,
    pub price: MoneyDto,
    /// `pre_transit`, `in_transit`, `out_for_delivery`, `delivered`, `failure`, `returned`.
    pub status: String,
    pub delivered_at: Option<DateTime<Utc>>,
    /// `GET` these to print.
    pub label_pdf: String,
    pub label_zpl: String,
    /// For parcels that cross a border.
    pub commercial_invoice: Option<String>,
    /// The carrier's own label file, when it renders one.
    pub carrier_label_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoughtResponse {
    pub label: LabelResponse,
    /// The rate chosen: the cheapest that meets the service level.
    pub rate: RateDto,
    pub shipment: ShipmentResponse,
    pub order: OrderResponse,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingEventDto {
    pub at: DateTime<Utc>,
    /// `pre_transit`, `in_transit`, `out_for_delivery`, `delivered`, `failure`, `returned`.
    pub status: String,
    pub message: String,
    pub location: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushTrackingRequest {
    /// Scans from your courier, any order; ones already known are ignored.
    pub events: Vec<TrackingEventDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingResponse {
    pub label: LabelResponse,
    pub events: Vec<TrackingEventDto>,
}

/// What the public tracking page shows: nothing but where the parcel is.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicTracking {
    pub carrier: String,
    pub status: String,
    pub delivered_at: Option<DateTime<Utc>>,
    pub events: Vec<TrackingEventDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteDestination {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub postal_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteLine {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// The shop's tenant id (public: storefronts embed it).
    pub tenant: uuid::Uuid,
    pub ship_to: QuoteDestination,
    pub lines: Vec<QuoteLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteResponse {
    /// Cheapest first.
    pub rates: Vec<RateDto>,
}

fn rate_dto(r: &warehouse::Rate) -> RateDto {
    RateDto {
        carrier: r.carrier.clone(),
        service: r.service.clone(),
        price: r.price.into(),
        transit_days: r.transit_days,
    }
}

fn status_dto(s: TrackingStatus) -> String {
    s.as_str().to_owned()
}

fn label_dto(state: &AppState, l: &ShipmentLabel) -> LabelResponse {
    let base = format!("/api/v1/shipments/{}", l.shipment_id);
    LabelResponse {
        shipment_id: l.shipment_id.into_uuid(),
        carrier: l.carrier.clone(),
        service: l.service.clone(),
        service_level: l.service_level.as_str().to_owned(),
        tracking_number: l.tracking_number.clone(),
        tracking_url: state.shipping.tracking_url(&l.public_id),
        price: l.price.into(),
        status: status_dto(l.status),
        delivered_at: l.delivered_at,
        label_pdf: format!("{base}/label?format=pdf"),
        label_zpl: format!("{base}/label?format=zpl"),
        commercial_invoice: l
            .is_international()
            .then(|| format!("{base}/commercial-invoice")),
        carrier_label_url: l.carrier_label_url.clone(),
    }
}

fn event_dto(e: &TrackingEvent) -> TrackingEventDto {
    TrackingEventDto {
        at: e.at,
        status: status_dto(e.status),
        message: e.message.clone(),
        location: e.location.clone(),
    }
}

fn parse_level(raw: Option<&str>) -> Result<Option<ServiceLevel>, ApiError> {
    match raw {
        None => Ok(None),
        Some(s) => ServiceLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .map(Some)
            .ok_or_else(|| {
                ApiError::validation(kernel::ValidationErrors::single(
                    "service_level",
                    "service_level must be standard, expedited or overnight",
                ))
            }),
    }
}

fn parse_status(raw: &str, field: String) -> Result<TrackingStatus, ApiError> {
    serde_json::from_value(serde_json::Value::String(raw.trim().to_owned())).map_err(|_| {
        ApiError::validation(kernel::ValidationErrors::single(
            field,
            "status must be pre_transit, in_transit, out_for_delivery, delivered, failure or returned",
        ))
    })
}

fn unprintable(e: carriers::label::LabelError) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        "unprintable",
        "This document cannot be printed",
        e.to_string(),
    )
}

fn path_shipment_id(raw: &str) -> Result<ShipmentId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("shipment {raw} not found")))
}

/// Rate-shops the tenant's carriers (its rate table, and EasyPost when configured) for one
/// parcel of the order, buys the cheapest rate that meets the service level, and records the
/// shipment: its units leave stock and the customer gets the tracking link.
#[utoipa::path(
    tag = "shipping",
    params(("id" = uuid::Uuid, Path)),
    request_body = BuyLabelRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = BoughtResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no carrier offers a rate that meets the service level", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "the carrier refused or is unreachable", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/labels")]
pub async fn buy_label(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<BuyLabelRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = path_order_id(&id)?;
    let body = body.into_inner();
    let request = LabelRequest {
        lines: body.lines.iter().map(|l| (l.line_no, l.quantity)).collect(),
        parcel: Parcel {
            weight_g: body.parcel.weight_g,
            length_mm: body.parcel.length_mm,
            width_mm: body.parcel.width_mm,
            height_mm: body.parcel.height_mm,
        },
        service_level: parse_level(body.service_level.as_deref())?,
        ship_from: body.ship_from.map(Into::into),
        customs_reason: None,
    };
    let bought = state
        .shipping
        .buy_label(&state.orders, &state.inventory, &ctx, order_id, request)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, format!("\"{}\"", bought.order.version)))
        .json(BoughtResponse {
            label: label_dto(&state, &bought.label),
            rate: rate_dto(&bought.rate),
            shipment: bought.shipment.into(),
            order: bought.order.into(),
        }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LabelQuery {
    /// `pdf` (default, 4×6 inch) or `zpl` (thermal printers).
    pub format: Option<String>,
}

/// The shipment's label to print: a 4×6 PDF with the tracking number as a Code 128 barcode,
/// or the same label in ZPL II.
#[utoipa::path(
    tag = "shipping",
    params(("id" = uuid::Uuid, Path), LabelQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, content_type = "application/pdf", description = "the label"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/shipments/{id}/label")]
pub async fn print_label(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    query: web::Query<LabelQuery>,
) -> Result<HttpResponse, ApiError> {
    let label = state.shipping.label(&ctx, path_shipment_id(&id)?).await?;
    let data = carriers::label::LabelData {
        ship_from: label.ship_from.clone(),
        ship_to: label.ship_to.clone(),
        carrier: label.carrier.clone(),
        service: label.service.clone(),
        weight_g: label.parcel.weight_g,
        reference: label.reference.clone(),
        tracking_number: label.tracking_number.clone(),
    };
    let disposition = |ext: &str| {
        format!(
            "inline; filename=\"label-{}.{ext}\"",
            label
                .tracking_number
                .replace(|c: char| !c.is_ascii_alphanumeric(), "")
        )
    };
    match query.format.as_deref().unwrap_or("pdf") {
        "pdf" => {
            let pdf = carriers::label::label_pdf(&data).map_err(unprintable)?;
            Ok(HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header((header::CONTENT_DISPOSITION, disposition("pdf")))
                .body(pdf))
        }
        "zpl" => {
            let zpl = carriers::label::label_zpl(&data).map_err(unprintable)?;
            Ok(HttpResponse::Ok()
                .content_type("application/zpl")
                .insert_header((header::CONTENT_DISPOSITION, disposition("zpl")))
                .body(zpl))
        }
        other => Err(ApiError::bad_request(format!(
            "format {other:?} is not offered; use pdf or zpl"
        ))),
    }
}

/// The commercial invoice (PDF) of a parcel that crosses a border: its customs lines with HS
/// codes, origins and values.
#[utoipa::path(
    tag = "shipping",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, content_type = "application/pdf", description = "the invoice"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a domestic parcel needs none", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/shipments/{id}/commercial-invoice")]
pub async fn commercial_invoice(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let label = state.shipping.label(&ctx, path_shipment_id(&id)?).await?;
    if !label.is_international() {
        return Err(ApiError::new(
            actix_web::http::StatusCode::CONFLICT,
            "not-international",
            "No commercial invoice for a domestic parcel",
            "this parcel stays in one country: it needs no commercial invoice",
        ));
    }
    let invoice = carriers::label::InvoiceData {
        number: label.reference.clone(),
        date: label.created_at.date_naive(),
        exporter: label.ship_from.clone(),
        consignee: label.ship_to.clone(),
        tracking_number: Some(label.tracking_number.clone()),
        reason: "merchandise".into(),
        lines: label.customs.clone(),
        currency: label.price.currency,
    };
    let pdf = carriers::label::commercial_invoice_pdf(&invoice, carriers::label::Paper::A4)
        .map_err(unprintable)?;
    Ok(HttpResponse::Ok().content_type("application/pdf").body(pdf))
}

/// Where the parcel is: its label and every tracking event, oldest first.
#[utoipa::path(
    tag = "shipping",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = TrackingResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/shipments/{id}/tracking")]
pub async fn tracking(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_shipment_id(&id)?;
    let label = state.shipping.label(&ctx, id).await?;
    let events = state.shipping.events(&ctx, id).await?;
    Ok(HttpResponse::Ok().json(TrackingResponse {
        label: label_dto(&state, &label),
        events: events.iter().map(event_dto).collect(),
    }))
}

/// Scans from your own courier (or any carrier that pushes): the parcel follows the latest,
/// and the order is delivered when its last parcel is.
#[utoipa::path(
    tag = "shipping",
    params(("id" = uuid::Uuid, Path)),
    request_body = PushTrackingRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = TrackingResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/shipments/{id}/tracking")]
pub async fn push_tracking(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<PushTrackingRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_shipment_id(&id)?;
    let body = body.into_inner();
    if body.events.is_empty() || body.events.len() > 100 {
        return Err(ApiError::validation(kernel::ValidationErrors::single(
            "events",
            "send 1 to 100 events",
        )));
    }
    let mut events = Vec::with_capacity(body.events.len());
    for (i, e) in body.events.into_iter().enumerate() {
        let message = e.message.trim().to_owned();
        if message.is_empty() || message.chars().count() > 500 {
            return Err(ApiError::validation(kernel::ValidationErrors::single(
                format!("events[{i}].message"),
                "message must be 1 to 500 characters",
            )));
        }
        events.push(TrackingEvent {
            at: e.at,
            status: parse_status(&e.status, format!("events[{i}].status"))?,
            message,
            location: e
                .location
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty()),
        });
    }
    let (label, events) = state
        .shipping
        .apply_tracking(&state.orders, &ctx, id, events)
        .await?;
    Ok(HttpResponse::Ok().json(TrackingResponse {
        label: label_dto(&state, &label),
        events: events.iter().map(event_dto).collect(),
    }))
}

/// Asks the carrier that sold the label for news now (the worker also polls).
#[utoipa::path(
    tag = "shipping",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = TrackingResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/shipments/{id}/tracking/refresh")]
pub async fn refresh_tracking(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (label, events) = state
        .shipping
        .refresh_tracking(&state.orders, &ctx, path_shipment_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(TrackingResponse {
        label: label_dto(&state, &label),
        events: events.iter().map(event_dto).collect(),
    }))
}

/// The tenant's own shipping prices (zones by country and postcode prefix, weight bands per
/// service). 404 until one is set.
#[utoipa::path(
    tag = "shipping",
    security(("api_key" = [])),
    responses(
        (status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/shipping/rate-table")]
pub async fn get_rate_table(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    match state.shipping.rate_table(ctx.tenant_id).await? {
        Some(table) => Ok(HttpResponse::Ok().json(table)),
        None => Err(ApiError::not_found(
            "no rate table yet: PUT /api/v1/shipping/rate-table",
        )),
    }
}

/// Replaces the rate table. Every problem is reported by field; a bad table changes nothing.
#[utoipa::path(
    tag = "shipping",
    request_body = Object,
    security(("api_key" = [])),
    responses(
        (status = 200, body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json")
    )
)]
#[put("/shipping/rate-table")]
pub async fn put_rate_table(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let table: RateTable =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed_json(e.to_string()))?;
    let table = state.shipping.set_rate_table(ctx.tenant_id, table).await?;
    Ok(HttpResponse::Ok().json(table))
}

/// Public, no key: what shipping these SKUs to this destination costs at the shop's rates
/// (for a storefront's checkout). 20 requests a minute per IP address, then 429.
#[utoipa::path(
    tag = "shipping",
    request_body = QuoteRequest,
    responses(
        (status = 200, body = QuoteResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such shop, or it has no rates", body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/shipping/quote")]
pub async fn quote(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<QuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let ip = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    state
        .limits
        .quotes_per_ip
        .hit(&ip)
        .map_err(|retry| ApiError::too_many_requests("too many quotes from this address", retry))?;
    let body = body.into_inner();
    let country = body.ship_to.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(ApiError::validation(kernel::ValidationErrors::single(
            "ship_to.country",
            "country must be a two-letter ISO 3166-1 code such as US",
        )));
    }
    let ship_to = ShipTo(kernel::Address {
        name: String::new(),
        company: None,
        line1: String::new(),
        line2: None,
        city: String::new(),
        region: None,
        postal_code: body.ship_to.postal_code,
        country,
        phone: None,
        email: None,
    });
    let lines: Vec<(String, i64)> = body
        .lines
        .into_iter()
        .map(|l| (l.sku, l.quantity))
        .collect();
    let rates = state
        .shipping
        .quote(
            &state.inventory,
            TenantId::from_uuid(body.tenant),
            &ship_to,
            &lines,
        )
        .await?
        .ok_or_else(|| ApiError::not_found("this shop has no shipping rates"))?;
    Ok(HttpResponse::Ok().json(QuoteResponse {
        rates: rates.iter().map(rate_dto).collect(),
    }))
}

/// The customer's tracking page, no login: status and scans only — no address, no price,
/// nothing else. HTML for browsers, JSON otherwise.
#[utoipa::path(
    tag = "shipping",
    params(("public_id" = String, Path)),
    responses(
        (status = 200, body = PublicTracking),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/track/{public_id}")]
pub async fn public_tracking(
    state: web::Data<AppState>,
    req: HttpRequest,
    public_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found("no parcel with this tracking link");
    if !is_public_id(&public_id) {
        return Err(not_found());
    }
    let (label, events) = state
        .shipping
        .public_tracking(&public_id)
        .await?
        .ok_or_else(not_found)?;
    let view = PublicTracking {
        carrier: label.carrier.clone(),
        status: status_dto(label.status),
        delivered_at: label.delivered_at,
        events: events.iter().map(event_dto).collect(),
    };
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(tracking_page(&view)));
    }
    Ok(HttpResponse::Ok().json(view))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn tracking_page(v: &PublicTracking) -> String {
    let rows: String = v
        .events
        .iter()
        .rev()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.at.format("%Y-%m-%d %H:%M UTC"),
                escape(&e.status.replace('_', " ")),
                escape(&e.message),
                escape(e.location.as_deref().unwrap_or("")),
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Your parcel: {status}</title></head><body>\
         <h1>Your parcel is {status}</h1><p>Carrier: {carrier}</p>\
         <table><thead><tr><th>When</th><th>Status</th><th>What happened</th><th>Where</th></tr></thead>\
         <tbody>{rows}</tbody></table></body></html>",
        status = escape(&v.status.replace('_', " ")),
        carrier = escape(&v.carrier),
    )
}
