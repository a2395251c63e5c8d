//! Returns (RMA): the customer asks, the seller approves or rejects, the dock counts what
//! arrived, inspection restocks or disposes each unit, and a refund is recorded. Thin: parse,
//! call the use case, map.

use super::orders::path_order_id;
use super::{MoneyDto, PageQuery, encode_cursor, page_request};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use kernel::ReturnId;
use order::ports::ReturnFilter;
use order::returns::{NewReturn, ReturnAuthorization, ReturnStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    /// The order line the units come from.
    pub line_no: u32,
    /// At most what shipped, less what is returned or under another open return.
    pub quantity: i64,
    /// `damaged`, `wrong_item`, `not_as_described`, `no_longer_needed` or `other`.
    pub reason: String,
    /// Up to 500 characters.
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeItemRequest {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReturnRequest {
    pub lines: Vec<ReturnLineRequest>,
    /// For an exchange: what to send instead. A replacement order (price 0, same ship-to)
    /// is placed when the return is approved.
    #[serde(default)]
    pub exchange: Vec<ExchangeItemRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectReturnRequest {
    /// Why, 1 to 500 characters.
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountedLineRequest {
    pub line_no: u32,
    /// Units that arrived (0 to what was authorised).
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveReturnRequest {
    /// Lines left out received nothing.
    pub lines: Vec<CountedLineRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectedLineRequest {
    pub line_no: u32,
    /// Units fit to sell again: they go back on the shelf as available stock.
    pub restock: i64,
    /// Units thrown away: they never become available.
    pub dispose: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectReturnRequest {
    /// Warehouse code to restock into; the default warehouse when left out.
    pub warehouse: Option<String>,
    /// Every line that received units, once: restock + dispose = received.
    pub lines: Vec<InspectedLineRequest>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundReturnRequest {
    /// Defaults to what the received units cost the customer; never more.
    pub amount_minor: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnLineResponse {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
    pub reason: String,
    pub note: Option<String>,
    pub unit_price: MoneyDto,
    pub received: u32,
    pub restocked: u32,
    pub disposed: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeItemResponse {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnResponse {
    pub id: uuid::Uuid,
    pub order_id: uuid::Uuid,
    /// What the customer writes on the parcel.
    pub rma_number: String,
    /// `requested`, `approved`, `rejected`, `received`, `inspected` or `refunded`.
    pub status: String,
    pub lines: Vec<ReturnLineResponse>,
    pub exchange: Vec<ExchangeItemResponse>,
    /// The linked replacement order of an exchange, once approved.
    pub replacement_order_id: Option<uuid::Uuid>,
    pub rejection_reason: Option<String>,
    /// The refund record (money moves through billing).
    pub refund: Option<MoneyDto>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnPage {
    pub items: Vec<ReturnResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReturnListQuery {
    /// Only returns in this status.
    pub status: Option<String>,
    /// Only returns of this order.
    pub order_id: Option<String>,
    /// 1 to 200; default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl From<ReturnAuthorization> for ReturnResponse {
    fn from(r: ReturnAuthorization) -> Self {
        Self {
            id: r.id.into_uuid(),
            order_id: r.order_id.into_uuid(),
            rma_number: r.rma_number,
            status: r.status.as_str().to_owned(),
            lines: r
                .lines
                .into_iter()
                .map(|l| ReturnLineResponse {
                    line_no: l.line_no,
                    sku: l.sku.to_string(),
                    quantity: l.quantity.get(),
                    reason: l.reason.as_str().to_owned(),
                    note: l.note,
                    unit_price: l.unit_price.into(),
                    received: l.received.get(),
                    restocked: l.restocked.get(),
                    disposed: l.disposed.get(),
                })
                .collect(),
            exchange: r
                .exchange
                .into_iter()
                .map(|(sku, q)| ExchangeItemResponse {
                    sku: sku.to_string(),
                    quantity: q.get(),
                })
                .collect(),
            replacement_order_id: r.replacement_order_id.map(|o| o.into_uuid()),
            rejection_reason: r.rejection_reason,
            refund: r.refund.map(Into::into),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn reply(status: actix_web::http::StatusCode, rma: ReturnAuthorization) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, format!("\"{}\"", rma.version)))
        .json(ReturnResponse::from(rma))
}

fn ok(rma: ReturnAuthorization) -> HttpResponse {
    reply(actix_web::http::StatusCode::OK, rma)
}

fn path_return_id(raw: &str) -> Result<ReturnId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("return {raw} not found")))
}

/// Opens a return for shipped units of an order (`requested`). An exchange names what to
/// send instead.
#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path)),
    request_body = CreateReturnRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = ReturnResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "nothing of the order has shipped", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/orders/{id}/returns")]
pub async fn create(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<CreateReturnRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = path_order_id(&id)?;
    let body = body.into_inner();
    let request = NewReturn {
        lines: body
            .lines
            .into_iter()
            .map(|l| (l.line_no, l.quantity, l.reason, l.note))
            .collect(),
        exchange: body
            .exchange
            .into_iter()
            .map(|e| (e.sku, e.quantity))
            .collect(),
    };
    let rma = state.orders.request_return(&ctx, order_id, request).await?;
    Ok(reply(actix_web::http::StatusCode::CREATED, rma))
}

/// An order's returns, newest first.
#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path), PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnPage),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/orders/{id}/returns")]
pub async fn of_order(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = ReturnFilter {
        order_id: Some(path_order_id(&id)?),
        status: None,
    };
    page_of(&state, &ctx, filter, query.limit, query.cursor.as_deref()).await
}

/// Every return, newest first, by status or order.
#[utoipa::path(
    tag = "returns",
    params(ReturnListQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnPage),
        (status = 400, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/returns")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<ReturnListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(ReturnStatus::parse(s).ok_or_else(|| {
            let names: Vec<_> = ReturnStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!(
                "unknown status {s:?}; use one of {}",
                names.join(", ")
            ))
        })?),
    };
    let order_id =
        match query.order_id.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(raw.parse().map_err(|_| {
                ApiError::bad_request(format!("order_id {raw:?} is not an order id"))
            })?),
        };
    let filter = ReturnFilter { order_id, status };
    page_of(&state, &ctx, filter, query.limit, query.cursor.as_deref()).await
}

async fn page_of(
    state: &AppState,
    ctx: &kernel::RequestContext,
    filter: ReturnFilter,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let page = page_request(limit, cursor, |c| c.parse::<ReturnId>().ok())?;
    let page = state.orders.list_returns(ctx, &filter, page).await?;
    Ok(HttpResponse::Ok().json(ReturnPage {
        next_cursor: page.next_cursor.map(|c| encode_cursor(&c.to_string())),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/returns/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rma = state.orders.get_return(&ctx, path_return_id(&id)?).await?;
    Ok(ok(rma))
}

/// Approves a requested return; an exchange's replacement order is placed and linked.
#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/returns/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rma = state
        .orders
        .approve_return(&ctx, path_return_id(&id)?)
        .await?;
    Ok(ok(rma))
}

/// Rejects a requested return, with a reason.
#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path)),
    request_body = RejectReturnRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/returns/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<RejectReturnRequest>,
) -> Result<HttpResponse, ApiError> {
    let rma = state
        .orders
        .reject_return(&ctx, path_return_id(&id)?, body.into_inner().reason)
        .await?;
    Ok(ok(rma))
}

/// Counts what arrived at the dock; the order's lines count it returned and the customer is
/// told (`return.received`).
#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path)),
    request_body = ReceiveReturnRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/returns/{id}/receive")]
pub async fn receive(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<ReceiveReturnRequest>,
) -> Result<HttpResponse, ApiError> {
    let counted = body
        .into_inner()
        .lines
        .into_iter()
        .map(|l| (l.line_no, l.quantity))
        .collect();
    let rma = state
        .orders
        .receive_return(&ctx, path_return_id(&id)?, counted)
        .await?;
    Ok(ok(rma))
}

/// Decides every received unit: restocked units go back on the shelf (a `return` movement)
/// and can be sold again, at once to waiting backorders; disposed units never do.
#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path)),
    request_body = InspectReturnRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/returns/{id}/inspect")]
pub async fn inspect(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<InspectReturnRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let decisions = body
        .lines
        .into_iter()
        .map(|l| (l.line_no, l.restock, l.dispose))
        .collect();
    let rma = state
        .orders
        .inspect_return(&ctx, path_return_id(&id)?, decisions, body.warehouse)
        .await?;
    Ok(ok(rma))
}

/// Records the refund of an inspected return. The body (`amount_minor`) is optional.
#[utoipa::path(
    tag = "returns",
    params(("id" = uuid::Uuid, Path)),
    request_body(content = Option<RefundReturnRequest>),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReturnResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/returns/{id}/refund")]
pub async fn refund(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: RefundReturnRequest = super::fulfilment::optional_body(&body)?;
    let rma = state
        .orders
        .refund_return(&ctx, path_return_id(&id)?, body.amount_minor)
        .await?;
    Ok(ok(rma))
}
