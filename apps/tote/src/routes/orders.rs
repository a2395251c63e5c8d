use super::{MoneyDto, encode_cursor, page_request};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use kernel::OrderId;
use order::ports::{OrderCursor, OrderFilter, OrderSort};
use order::service::{IdempotencyRequest, Placement};
use order::{Address, NewOrder, NewOrderLine, Order, OrderStatus, ServiceLevel};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressDto {
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineRequest {
    pub sku: String,
    /// At least 1.
    pub quantity: i64,
    pub unit_price: MoneyDto,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// The channel's own id for this order. With `channel`, unique: sending it again returns
    /// the first order.
    pub external_id: Option<String>,
    /// Where the order came from, e.g. `shopify`; default `api`.
    pub channel: Option<String>,
    /// Accept the order when stock is short (default true). If false and stock is short, the
    /// answer is 409 and nothing is written.
    pub allow_backorder: Option<bool>,
    pub ship_to: AddressDto,
    /// 1 to 500 lines, all in one currency.
    pub lines: Vec<OrderLineRequest>,
    /// A checkout hold (`POST /api/v1/reservations`) whose stock this order takes over; the
    /// lines must be exactly the hold's.
    pub reservation_id: Option<uuid::Uuid>,
    /// `standard` (default), `expedited` or `overnight`: sets the ship-by time.
    pub service_level: Option<ServiceLevelDto>,
}

/// How fast the order must leave.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevelDto {
    Standard,
    Expedited,
    Overnight,
}

impl From<ServiceLevelDto> for ServiceLevel {
    fn from(s: ServiceLevelDto) -> Self {
        match s {
            ServiceLevelDto::Standard => ServiceLevel::Standard,
            ServiceLevelDto::Expedited => ServiceLevel::Expedited,
            ServiceLevelDto::Overnight => ServiceLevel::Overnight,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldDto {
    pub reason: String,
    /// The status the order returns to when released.
    pub resumes_as: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineResponse {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
    /// Units ever reserved for this line (shipped ones included).
    pub allocated: u32,
    /// Units still waiting for stock.
    pub backordered: u32,
    pub picked: u32,
    pub shipped: u32,
    pub returned: u32,
    pub unit_price: MoneyDto,
    pub total: MoneyDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderResponse {
    pub id: uuid::Uuid,
    /// `pending`, `allocated`, `partially_allocated`, `backordered`, `on_hold`, `picking`,
    /// `packed`, `partially_shipped`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    pub channel: String,
    pub external_id: Option<String>,
    pub allow_backorder: bool,
    pub ship_to: AddressDto,
    pub lines: Vec<OrderLineResponse>,
    /// Computed from the lines.
    pub total: MoneyDto,
    pub service_level: String,
    /// When it must leave the warehouse: the queue is ordered by it.
    pub ship_by: DateTime<Utc>,
    /// Set while the order is `on_hold`.
    pub hold: Option<HoldDto>,
    /// Send as `If-Match` to edit safely.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderListQuery {
    /// Only orders in one of these statuses, comma-separated (`backordered,on_hold`).
    pub status: Option<String>,
    /// Only orders from this channel.
    pub channel: Option<String>,
    /// Created at or after this time (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this time (RFC 3339).
    pub created_before: Option<DateTime<Utc>>,
    /// Has a line for this SKU.
    pub sku: Option<String>,
    /// Ship-to e-mail, any case.
    pub customer_email: Option<String>,
    /// Due to leave before this time (RFC 3339).
    pub ship_by_before: Option<DateTime<Utc>>,
    /// `newest` (default) or `ship_by` (the warehouse queue: earliest ship-by, then faster
    /// service, then oldest).
    pub sort: Option<String>,
    /// 1 to 200; default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

impl From<AddressDto> for Address {
    fn from(a: AddressDto) -> Self {
        Address {
            name: a.name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            email: a.email,
        }
    }
}

impl From<Address> for AddressDto {
    fn from(a: Address) -> Self {
        AddressDto {
            name: a.name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            email: a.email,
        }
    }
}

impl From<CreateOrderRequest> for NewOrder {
    fn from(r: CreateOrderRequest) -> Self {
        NewOrder {
            hold_id: r.reservation_id.map(kernel::HoldId::from_uuid),
            channel: r.channel,
            external_id: r.external_id,
            allow_backorder: r.allow_backorder.unwrap_or(true),
            service_level: r.service_level.map(Into::into).unwrap_or_default(),
            ship_to: r.ship_to.into(),
            lines: r
                .lines
                .into_iter()
                .map(|l| NewOrderLine {
                    sku: l.sku,
                    quantity: l.quantity,
                    unit_price_minor: l.unit_price.amount_minor,
                    currency: l.unit_price.currency,
                })
                .collect(),
        }
    }
}

impl From<Order> for OrderResponse {
    fn from(o: Order) -> Self {
        Self {
            id: o.id.into_uuid(),
            status: o.status.as_str().to_owned(),
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineResponse {
                    line_no: l.line_no,
                    sku: l.sku.to_string(),
                    quantity: l.quantity.get(),
                    allocated: l.allocated.get(),
                    backordered: l.backordered().get(),
                    picked: l.picked.get(),
                    shipped: l.shipped.get(),
                    returned: l.returned.get(),
                    unit_price: l.unit_price.into(),
                    total: l.total().into(),
                })
                .collect(),
            channel: o.channel,
            external_id: o.external_id,
            allow_backorder: o.allow_backorder,
            ship_to: o.ship_to.into(),
            total: o.total.into(),
            service_level: o.service_level.as_str().to_owned(),
            ship_by: o.ship_by,
            hold: o.hold.map(|h| HoldDto {
                reason: h.reason,
                resumes_as: h.resume.as_str().to_owned(),
            }),
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// `Idempotency-Key` plus a fingerprint of the body it came with.
fn idempotency(
    req: &HttpRequest,
    body: &CreateOrderRequest,
) -> Result<Option<IdempotencyRequest>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::bad_request(
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters, e.g. a UUID",
        ));
    }
    // The parsed body re-serialised: key order and whitespace do not change the fingerprint.
    let canonical = serde_json::to_vec(body).map_err(ApiError::internal)?;
    Ok(Some(IdempotencyRequest {
        key: key.to_owned(),
        fingerprint: hex::encode(Sha256::digest(&canonical)),
    }))
}

pub(crate) fn path_order_id(raw: &str) -> Result<OrderId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("order {raw} not found")))
}

/// Places an order: reserves stock for every line it can, atomically with the order and its
/// `order.created` event. Honours `Idempotency-Key`; a repeated `(channel, external_id)`
/// returns the first order with 200.
#[utoipa::path(
    tag = "orders",
    request_body = CreateOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry safely: same key and body, same order")),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "created (or replayed by Idempotency-Key)", body = OrderResponse),
        (status = 200, description = "this channel order exists; here it is", body = OrderResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not enough stock and no backorder", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown SKU, or Idempotency-Key reused", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders")]
pub async fn create(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    body: web::Json<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let idempotency = idempotency(&req, &body)?;
    crate::quota::admit_order(&state, ctx.tenant_id).await?;
    let placement = match state.orders.place(&ctx, body.into(), idempotency).await {
        Err(e @ order::OrderError::InsufficientStock(_)) => {
            state.metrics.reservations_refused.inc();
            return Err(e.into());
        }
        other => other?,
    };
    let (mut response, order) = match placement {
        Placement::Created(o) => {
            state.metrics.orders_created.inc();
            (HttpResponse::Created(), o)
        }
        Placement::Replayed(o) => {
            let mut r = HttpResponse::Created();
            r.insert_header(("Idempotent-Replayed", "true"));
            (r, o)
        }
        Placement::Existing(o) => (HttpResponse::Ok(), o),
    };
    Ok(response
        .insert_header((header::LOCATION, format!("/api/v1/orders/{}", order.id)))
        .json(OrderResponse::from(order)))
}

/// Your orders: search by status, channel, dates, SKU, customer e-mail and ship-by; newest
/// first, or the warehouse queue (`sort=ship_by`).
#[utoipa::path(
    tag = "orders",
    params(OrderListQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderPage),
        (status = 400, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/orders")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<OrderListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let sort = match query.sort.as_deref() {
        None | Some("") | Some("newest") => OrderSort::Newest,
        Some("ship_by") => OrderSort::ShipBy,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown sort {other:?}; use newest or ship_by"
            )));
        }
    };
    let filter = list_filter(&query)?;
    let page = page_request(query.limit, query.cursor.as_deref(), |c| {
        decode_order_cursor(c, sort)
    })?;
    let page = state.orders.list(&ctx, &filter, sort, page).await?;
    Ok(HttpResponse::Ok().json(OrderPage {
        next_cursor: page
            .next_cursor
            .map(|c| encode_cursor(&encode_order_cursor(&c, sort))),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

fn list_filter(q: &OrderListQuery) -> Result<OrderFilter, ApiError> {
    let statuses = q
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            OrderStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown status {s:?}; use one of: {}",
                    OrderStatus::ALL.map(OrderStatus::as_str).join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sku = match q.sku.as_deref() {
        None | Some("") => None,
        Some(s) => {
            Some(kernel::Sku::parse(s).map_err(|e| ApiError::bad_request(format!("`sku`: {e}")))?)
        }
    };
    Ok(OrderFilter {
        statuses,
        channel: q.channel.as_deref().map(|c| c.trim().to_ascii_lowercase()),
        created_from: q.created_from,
        created_before: q.created_before,
        sku,
        customer_email: q.customer_email.as_deref().map(|e| e.trim().to_owned()),
        ship_by_before: q.ship_by_before,
    })
}

/// Newest: the last id. Ship-by: `<ship_by micros>.<rank>.<id>`.
fn encode_order_cursor(c: &OrderCursor, sort: OrderSort) -> String {
    match sort {
        OrderSort::Newest => c.id.to_string(),
        OrderSort::ShipBy => format!(
            "{}.{}.{}",
            c.ship_by.map(|t| t.timestamp_micros()).unwrap_or_default(),
            c.rank,
            c.id
        ),
    }
}

fn decode_order_cursor(raw: &str, sort: OrderSort) -> Option<OrderCursor> {
    match sort {
        OrderSort::Newest => Some(OrderCursor {
            ship_by: None,
            rank: 0,
            id: raw.parse().ok()?,
        }),
        OrderSort::ShipBy => {
            let mut parts = raw.splitn(3, '.');
            let micros: i64 = parts.next()?.parse().ok()?;
            let rank: i32 = parts.next()?.parse().ok()?;
            let id = parts.next()?.parse().ok()?;
            Some(OrderCursor {
                ship_by: Some(DateTime::from_timestamp_micros(micros)?),
                rank,
                id,
            })
        }
    }
}

/// One order.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/orders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = state.orders.get(&ctx, path_order_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(OrderResponse::from(order)))
}

/// Cancels an order and releases all its reserved stock. The body (a `reason`) is optional.
#[utoipa::path(
    tag = "orders",
    params(("id" = uuid::Uuid, Path)),
    request_body(content = Option<CancelRequest>),
    security(("api_key" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "cannot cancel in this status", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = path_order_id(&id)?;
    let body: CancelRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CancelRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed_json(e.to_string()))?
    };
    let order = state.orders.cancel(&ctx, id, body.reason).await?;
    Ok(HttpResponse::Ok().json(OrderResponse::from(order)))
}
