//! Moving an order along: edit, hold and release, pick, pack, ship (in several parcels),
//! deliver, and reading its shipments and timeline. Thin: parse, call the use case, map.

use super::orders::{AddressDto, OrderLineRequest, OrderResponse, ServiceLevelDto, path_order_id};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::routes::inventory::expected_version;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use order::ports::TimelineEntry;
use order::{NewOrderLine, NewShipment, Order, OrderChanges, Shipment};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditOrderRequest {
    pub ship_to: Option<AddressDto>,
    pub service_level: Option<ServiceLevelDto>,
    /// Replaces every line; the order's stock is released and reserved again.
    pub lines: Option<Vec<OrderLineRequest>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Why (shown to your team and kept in the history), 1 to 500 characters.
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLineRequest {
    pub line_no: u32,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShipmentRequest {
    /// e.g. `ups`, `dhl`, `usps`.
    pub carrier: String,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    /// Which lines leave, and how many units of each (at most what is reserved).
    pub lines: Vec<ShipmentLineRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentLineResponse {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentResponse {
    pub id: uuid::Uuid,
    pub order_id: uuid::Uuid,
    pub carrier: String,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub lines: Vec<ShipmentLineResponse>,
    pub shipped_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShippedResponse {
    pub shipment: ShipmentResponse,
    pub order: OrderResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntryResponse {
    pub at: DateTime<Utc>,
    /// `status_change`, or an event type such as `order.shipped`.
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
    pub actor: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
}

impl From<Shipment> for ShipmentResponse {
    fn from(s: Shipment) -> Self {
        Self {
            id: s.id.into_uuid(),
            order_id: s.order_id.into_uuid(),
            carrier: s.carrier,
            service: s.service,
            tracking_number: s.tracking_number,
            tracking_url: s.tracking_url,
            lines: s
                .lines
                .into_iter()
                .map(|l| ShipmentLineResponse {
                    line_no: l.line_no,
                    sku: l.sku.to_string(),
                    quantity: l.quantity.get(),
                })
                .collect(),
            shipped_at: s.shipped_at,
        }
    }
}

impl From<TimelineEntry> for TimelineEntryResponse {
    fn from(e: TimelineEntry) -> Self {
        Self {
            at: e.at,
            kind: e.kind,
            from: e.from.map(|s| s.as_str().to_owned()),
            to: e.to.map(|s| s.as_str().to_owned()),
            reason: e.reason,
            actor: e.actor,
            payload: e.payload,
        }
    }
}

fn order_reply(order: Order) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", order.version)))
        .json(OrderResponse::from(order))
}

/// An optional JSON body: empty means the default.
pub(crate) fn optional_body<T: Default + serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::malformed_json(e.to_string()))
}

/// Edits an order before picking starts: ship-to address, service level, lines. New lines
/// release its stock and reserve again, in one transaction. Honours `If-Match` (its version).
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = EditOrderRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "picking started, or the version changed", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[patch("/orders/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<EditOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_order_id(&id)?;
    let version = expected_version(&req)?;
    let body = body.into_inner();
    let changes = OrderChanges {
        ship_to: body.ship_to.map(Into::into),
        service_level: body.service_level.map(Into::into),
        lines: body.lines.map(|lines| {
            lines
                .into_iter()
                .map(|l| NewOrderLine {
                    sku: l.sku,
                    quantity: l.quantity,
                    unit_price_minor: l.unit_price.amount_minor,
                    currency: l.unit_price.currency,
                })
                .collect()
        }),
    };
    let order = state.orders.edit(&ctx, id, changes, version).await?;
    Ok(order_reply(order))
}

/// Puts an order on hold, with a reason. It keeps its stock and goes no further until
/// released.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    request_body = HoldRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/hold")]
pub async fn hold(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<HoldRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_order_id(&id)?;
    let order = state
        .orders
        .hold(&ctx, id, body.into_inner().reason)
        .await?;
    Ok(order_reply(order))
}

/// Takes an order off hold, back to where it was. The body (a `note`) is optional.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    request_body(content = Option<ReleaseRequest>),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/release")]
pub async fn release(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = path_order_id(&id)?;
    let body: ReleaseRequest = optional_body(&body)?;
    let order = state.orders.release(&ctx, id, body.note).await?;
    Ok(order_reply(order))
}

/// The warehouse starts picking what the order has reserved.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/pick")]
pub async fn pick(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = state
        .orders
        .start_picking(&ctx, path_order_id(&id)?)
        .await?;
    Ok(order_reply(order))
}

/// Everything picked is packed.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/pack")]
pub async fn pack(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = state.orders.pack(&ctx, path_order_id(&id)?).await?;
    Ok(order_reply(order))
}

/// Records a parcel leaving with some of the order's reserved units: they leave stock
/// (`ship` movements), the lines count them shipped, and the order becomes
/// `partially_shipped` or `shipped`. `order.shipped` carries the tracking.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    request_body = CreateShipmentRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = ShippedResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/shipments")]
pub async fn ship(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<CreateShipmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_order_id(&id)?;
    let body = body.into_inner();
    let shipment = NewShipment {
        carrier: body.carrier,
        service: body.service,
        tracking_number: body.tracking_number,
        tracking_url: body.tracking_url,
        lines: body
            .lines
            .into_iter()
            .map(|l| (l.line_no, l.quantity))
            .collect(),
    };
    let (order, shipment) = state.orders.ship(&ctx, id, shipment).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, format!("\"{}\"", order.version)))
        .json(ShippedResponse {
            shipment: shipment.into(),
            order: order.into(),
        }))
}

/// The order's parcels, oldest first.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Vec<ShipmentResponse>),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/orders/{id}/shipments")]
pub async fn shipments(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let list = state.orders.shipments(&ctx, path_order_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(
        list.into_iter()
            .map(ShipmentResponse::from)
            .collect::<Vec<_>>(),
    ))
}

/// The carrier delivered the order.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/deliver")]
pub async fn deliver(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = state.orders.deliver(&ctx, path_order_id(&id)?).await?;
    Ok(order_reply(order))
}

/// What happened to an order: every status change (who, when, why) and every event about
/// it, oldest first (at most 500 entries).
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Vec<TimelineEntryResponse>),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/orders/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let entries = state.orders.timeline(&ctx, path_order_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(
        entries
            .into_iter()
            .map(TimelineEntryResponse::from)
            .collect::<Vec<_>>(),
    ))
}
