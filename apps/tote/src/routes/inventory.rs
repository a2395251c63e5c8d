use super::products::path_sku;
use super::{PageQuery, encode_cursor, sku_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use inventory::service::{SetCountedQuantity, StockView};
use inventory::{StockLevel, StockTotals};
use kernel::{Quantity, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseStock {
    pub warehouse: String,
    pub on_hand: u32,
    pub reserved: u32,
    pub available: u32,
    /// On its way here (a transfer in transit).
    pub incoming: u32,
    /// Send as `If-Match` with `"warehouse"` to change this warehouse's figure safely.
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockResponse {
    pub sku: String,
    pub on_hand: u32,
    pub reserved: u32,
    /// `on_hand - reserved`: what new orders can still get. For a kit: whole kits its
    /// components make.
    pub available: u32,
    pub incoming: u32,
    pub is_kit: bool,
    /// Version of the default warehouse's figure (what `PUT .../quantity` without a
    /// `warehouse` changes); absent in lists and for kits.
    pub version: Option<i64>,
    pub by_warehouse: Vec<WarehouseStock>,
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
    /// Warehouse code; the default warehouse when absent.
    pub warehouse: Option<String>,
}

impl From<StockTotals> for StockResponse {
    fn from(t: StockTotals) -> Self {
        Self {
            available: t.available().get(),
            sku: t.sku.to_string(),
            on_hand: t.on_hand.get(),
            reserved: t.reserved.get(),
            incoming: t.incoming.get(),
            is_kit: false,
            version: None,
            by_warehouse: Vec::new(),
        }
    }
}

fn level_json(code: String, l: &StockLevel) -> WarehouseStock {
    WarehouseStock {
        warehouse: code,
        on_hand: l.on_hand.get(),
        reserved: l.reserved.get(),
        available: l.available().get(),
        incoming: l.incoming.get(),
        version: l.version,
    }
}

fn view_response(view: StockView) -> HttpResponse {
    let default_version = view
        .by_warehouse
        .iter()
        .find(|(w, _)| w.is_default)
        .map(|(_, l)| l.version);
    let mut body = StockResponse::from(view.totals);
    body.is_kit = view.is_kit;
    body.version = default_version;
    body.by_warehouse = view
        .by_warehouse
        .iter()
        .map(|(w, l)| level_json(w.code.clone(), l))
        .collect();
    let mut response = HttpResponse::Ok();
    if let Some(v) = default_version {
        response.insert_header((header::ETAG, format!("\"{v}\"")));
    }
    response.json(body)
}

/// `If-Match: "7"` (or `7`, or `W/"7"`) → Some(7); `*` or absent → None.
pub fn expected_version(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    if raw == "*" {
        return Ok(None);
    }
    let tag = raw.trim_start_matches("W/").trim_matches('"');
    tag.parse::<i64>().map(Some).map_err(|_| {
        ApiError::bad_request(
            "`If-Match` must be the version (ETag) you read, e.g. If-Match: \"3\"",
        )
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
    let page = state.inventory.stock_totals(&ctx, page).await?;
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
    Ok(view_response(state.inventory.stock_view(&ctx, &sku).await?))
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
    // The answer is the SKU's whole stock (totals and every warehouse), read after the change.
    state
        .inventory
        .set_counted_quantity(
            &ctx,
            SetCountedQuantity {
                sku: sku.clone(),
                warehouse: body.warehouse,
                on_hand,
                reason: body.reason,
                expected_version,
            },
        )
        .await?;
    Ok(view_response(state.inventory.stock_view(&ctx, &sku).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementResponse {
    pub id: uuid::Uuid,
    /// receipt, adjustment, reservation, release, pick, ship, return, transfer or count.
    pub kind: String,
    pub warehouse_id: uuid::Uuid,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub incoming_delta: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor: Option<String>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementPage {
    pub items: Vec<MovementResponse>,
    pub next_cursor: Option<String>,
}

/// A SKU's ledger, newest first: every change to its stock, with who, why and what for.
#[utoipa::path(
    tag = "inventory",
    params(("sku" = String, Path), PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = MovementPage),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/inventory/{sku}/movements")]
pub async fn movements(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    sku: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&sku)?;
    let page = super::page_request(query.limit, query.cursor.as_deref(), |raw| {
        raw.parse::<kernel::MovementId>().ok()
    })?;
    let page = state.inventory.movements(&ctx, &sku, page).await?;
    Ok(HttpResponse::Ok().json(MovementPage {
        next_cursor: page.next_cursor.map(|id| encode_cursor(&id.to_string())),
        items: page
            .items
            .into_iter()
            .map(|m| MovementResponse {
                id: m.id.into_uuid(),
                kind: m.kind.as_str().to_owned(),
                warehouse_id: m.warehouse_id.into_uuid(),
                on_hand_delta: m.on_hand_delta,
                reserved_delta: m.reserved_delta,
                incoming_delta: m.incoming_delta,
                reason: m.reason,
                reference: m.reference,
                actor: m.actor,
                occurred_at: m.occurred_at,
            })
            .collect(),
    }))
}
