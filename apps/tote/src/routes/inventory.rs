use super::products::path_sku;
use super::{PageQuery, encode_cursor, sku_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use inventory::StockLevel;
use inventory::service::SetCountedQuantity;
use kernel::{Quantity, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct StockResponse {
    pub sku: String,
    pub on_hand: u32,
    pub reserved: u32,
    /// `on_hand - reserved`: what new orders can still get.
    pub available: u32,
    /// Send as `If-Match` to change this stock only if nobody else did meanwhile.
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockPage {
    pub items: Vec<StockResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuantityRequest {
    /// The counted quantity on hand.
    pub on_hand: i64,
    /// Why it changes, e.g. "cycle count" or "initial stock". Kept in the ledger.
    pub reason: String,
}

impl From<StockLevel> for StockResponse {
    fn from(l: StockLevel) -> Self {
        Self {
            available: l.available().get(),
            sku: l.sku.to_string(),
            on_hand: l.on_hand.get(),
            reserved: l.reserved.get(),
            version: l.version,
        }
    }
}

fn with_etag(level: StockLevel) -> HttpResponse {
    let etag = format!("\"{}\"", level.version);
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .json(StockResponse::from(level))
}

/// `If-Match: "7"` (or `7`, or `W/"7"`) → Some(7); `*` or absent → None.
fn expected_version(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    if raw == "*" {
        return Ok(None);
    }
    let tag = raw.trim_start_matches("W/").trim_matches('"');
    tag.parse::<i64>().map(Some).map_err(|_| {
        ApiError::bad_request("`If-Match` must be the stock's version, e.g. If-Match: \"3\"")
    })
}

/// Stock of every SKU, by SKU.
#[utoipa::path(
    tag = "inventory",
    params(PageQuery),
    security(("api_key" = [])),
    responses((status = 200, body = StockPage))
)]
#[get("/inventory")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = sku_page(&query)?;
    let page = state.inventory.stock_levels(&ctx, page).await?;
    Ok(HttpResponse::Ok().json(StockPage {
        next_cursor: page.next_cursor.map(|s| encode_cursor(s.as_str())),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Stock of one SKU. The `ETag` is its version.
#[utoipa::path(
    tag = "inventory",
    params(("sku" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = StockResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/inventory/{sku}")]
pub async fn get(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    sku: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&sku)?;
    Ok(with_etag(state.inventory.stock_level(&ctx, &sku).await?))
}

/// Sets the counted quantity on hand. Written as an adjustment movement in the ledger, never
/// a silent overwrite; refused below what is reserved. Honours `If-Match`.
#[utoipa::path(
    tag = "inventory",
    params(("sku" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = SetQuantityRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = StockResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version mismatch", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "below reserved", body = Problem, content_type = "application/problem+json")
    )
)]
#[put("/inventory/{sku}/quantity")]
pub async fn set_quantity(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    sku: web::Path<String>,
    body: web::Json<SetQuantityRequest>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&sku)?;
    let expected_version = expected_version(&req)?;
    let body = body.into_inner();
    let on_hand = Quantity::new(body.on_hand)
        .map_err(|e| ApiError::validation(ValidationErrors::single("on_hand", e)))?;
    let level = state
        .inventory
        .set_counted_quantity(
            &ctx,
            SetCountedQuantity {
                sku,
                on_hand,
                reason: body.reason,
                expected_version,
            },
        )
        .await?;
    Ok(with_etag(level))
}
