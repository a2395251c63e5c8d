//! The warehouse floor's ground: bins with their walk order, put-away into bins, the box
//! catalogue, and staff task queues. Thin: parse, call the store or the domain, map.

use super::MoneyDto;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use kernel::{Currency, Money, Quantity, RequestContext, Sku, ValidationErrors, WarehouseId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warehouse::{Bin, BinCode, BoxType, TaskKind, WarehouseTask};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBinRequest {
    /// Like `A-01-03-B`: one to four dash-separated parts of letters and digits.
    pub code: String,
    /// Position on the pick path: lower is walked past first.
    pub walk_order: u32,
    /// Defaults to the code's first part.
    pub zone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BinResponse {
    pub warehouse: String,
    pub code: String,
    pub zone: String,
    pub walk_order: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BinList {
    /// In walk order (a warehouse has a bounded number of bins: no pagination).
    pub items: Vec<BinResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutAwayRequest {
    /// Warehouse code.
    pub warehouse: String,
    pub bin: String,
    pub sku: String,
    /// Units to place (at least 1). The SKU's units in the warehouse's bins never exceed its
    /// on hand there.
    pub quantity: i64,
    /// Make this the SKU's home bin (picked from first).
    #[serde(default)]
    pub preferred: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PutAwayResponse {
    pub warehouse: String,
    pub bin: String,
    pub sku: String,
    /// What the bin now holds of the SKU.
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BinHoldingResponse {
    pub warehouse: String,
    pub bin: String,
    pub zone: String,
    pub walk_order: u32,
    pub quantity: i64,
    pub preferred: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuBins {
    pub sku: String,
    pub items: Vec<BinHoldingResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBoxRequest {
    /// 1 to 32 characters, stored upper-cased.
    pub code: String,
    /// Inner dimensions, mm.
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
    pub max_weight_g: u32,
    pub cost: MoneyDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoxResponse {
    pub code: String,
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
    pub max_weight_g: u32,
    pub cost: MoneyDto,
}

impl From<BoxType> for BoxResponse {
    fn from(b: BoxType) -> Self {
        Self {
            code: b.code,
            length_mm: b.length_mm,
            width_mm: b.width_mm,
            height_mm: b.height_mm,
            max_weight_g: b.max_weight_g,
            cost: b.cost.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoxList {
    pub items: Vec<BoxResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskResponse {
    pub id: uuid::Uuid,
    /// `pick`, `pack`, `put_away`, `count` or `qc`.
    pub kind: String,
    /// `open`, `assigned`, `in_progress`, `done` or `cancelled`.
    pub status: String,
    /// What the task is about, e.g. `picklist:<id>`.
    pub reference: String,
    pub assignee: Option<String>,
    pub ship_by: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<WarehouseTask> for TaskResponse {
    fn from(t: WarehouseTask) -> Self {
        Self {
            id: t.id,
            kind: t.kind.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            reference: t.reference,
            assignee: t.assignee,
            ship_by: t.ship_by,
            created_at: t.created_at,
            started_at: t.started_at,
            completed_at: t.completed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<TaskResponse>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimTaskRequest {
    /// Only a task of this kind.
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimedTask {
    /// `null` when no open task is waiting.
    pub task: Option<TaskResponse>,
}

/// The tenant's warehouse with this code, or 404.
pub async fn warehouse_of(
    state: &AppState,
    ctx: &RequestContext,
    code: &str,
) -> Result<(WarehouseId, String), ApiError> {
    state
        .store
        .warehouse_by_code(ctx.tenant_id, code)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "warehouse {code} not found; see GET /api/v1/warehouses"
            ))
        })
}

fn bin_response(warehouse: &str, b: Bin) -> BinResponse {
    BinResponse {
        warehouse: warehouse.to_owned(),
        code: b.code.to_string(),
        zone: b.zone,
        walk_order: b.walk_order,
    }
}

/// Adds a bin to a warehouse, with its place on the pick path.
#[utoipa::path(
    tag = "warehouse",
    params(("code" = String, Path, description = "warehouse code")),
    request_body = CreateBinRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = BinResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the warehouse has a bin with this code", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouses/{code}/bins")]
pub async fn create_bin(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    code: web::Path<String>,
    body: web::Json<CreateBinRequest>,
) -> Result<HttpResponse, ApiError> {
    let (warehouse, wh_code) = warehouse_of(&state, &ctx, &code).await?;
    let body = body.into_inner();
    let bin_code =
        BinCode::parse(&body.code).map_err(|e| ValidationErrors::single("code", e.to_string()))?;
    let bin = match body.zone.as_deref().map(str::trim) {
        Some(zone) if !zone.is_empty() => {
            if zone.len() > 32 {
                return Err(ValidationErrors::single("zone", "at most 32 characters").into());
            }
            Bin::in_zone(bin_code, warehouse, zone, body.walk_order)
        }
        _ => Bin::new(bin_code, warehouse, body.walk_order),
    };
    if !state
        .store
        .create_bin(ctx.tenant_id, &bin, Utc::now())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "duplicate-bin",
            "The bin exists",
            format!("warehouse {wh_code} already has a bin {}", bin.code),
        ));
    }
    Ok(HttpResponse::Created().json(bin_response(&wh_code, bin)))
}

/// A warehouse's bins in walk order.
#[utoipa::path(
    tag = "warehouse",
    params(("code" = String, Path, description = "warehouse code")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = BinList),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/warehouses/{code}/bins")]
pub async fn list_bins(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (warehouse, wh_code) = warehouse_of(&state, &ctx, &code).await?;
    let bins = state.store.bins(ctx.tenant_id, warehouse).await?;
    Ok(HttpResponse::Ok().json(BinList {
        items: bins
            .into_iter()
            .map(|b| bin_response(&wh_code, b))
            .collect(),
    }))
}

/// Places on-hand units in a bin. Placement only: stock levels do not change, and a SKU's
/// units across a warehouse's bins never exceed its on hand there (422 otherwise).
#[utoipa::path(
    tag = "warehouse",
    request_body = PutAwayRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = PutAwayResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown bin, or more than is on hand", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/put-away")]
pub async fn put_away(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<PutAwayRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = ValidationErrors::new();
    let sku = Sku::parse(&body.sku).map_err(|e| errors.add("sku", e)).ok();
    let bin = BinCode::parse(&body.bin)
        .map_err(|e| errors.add("bin", e))
        .ok();
    let quantity = Quantity::new(body.quantity).ok().filter(|q| !q.is_zero());
    if quantity.is_none() {
        errors.add("quantity", "at least 1");
    }
    let (Some(sku), Some(bin), Some(quantity)) = (sku, bin, quantity) else {
        return Err(errors.into());
    };
    let Some((warehouse, wh_code)) = state
        .store
        .warehouse_by_code(ctx.tenant_id, &body.warehouse)
        .await?
    else {
        return Err(ValidationErrors::single(
            "warehouse",
            "no such warehouse; see GET /api/v1/warehouses",
        )
        .into());
    };
    let total = state
        .store
        .put_away(
            ctx.tenant_id,
            warehouse,
            &bin,
            &sku,
            quantity,
            body.preferred,
            Utc::now(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PutAwayResponse {
        warehouse: wh_code,
        bin: bin.to_string(),
        sku: sku.to_string(),
        quantity: total,
    }))
}

/// Which bins hold a SKU, warehouse by warehouse in walk order.
#[utoipa::path(
    tag = "warehouse",
    params(("sku" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = SkuBins),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/inventory/{sku}/bins")]
pub async fn bins_of_sku(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    sku: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sku = Sku::parse(&sku).map_err(|_| ApiError::not_found(format!("SKU {sku} not found")))?;
    state.inventory.product(&ctx, &sku).await?;
    let holdings = state.store.bins_of_sku(ctx.tenant_id, &sku).await?;
    Ok(HttpResponse::Ok().json(SkuBins {
        sku: sku.to_string(),
        items: holdings
            .into_iter()
            .map(|h| BinHoldingResponse {
                warehouse: h.warehouse_code,
                bin: h.bin.code.to_string(),
                zone: h.bin.zone,
                walk_order: h.bin.walk_order,
                quantity: h.quantity,
                preferred: h.preferred,
            })
            .collect(),
    }))
}

/// Adds a box to the tenant's catalogue (inner dimensions, weight limit, cost).
#[utoipa::path(
    tag = "warehouse",
    request_body = CreateBoxRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = BoxResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a box with this code exists", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/boxes")]
pub async fn create_box(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<CreateBoxRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = ValidationErrors::new();
    let code = body.code.trim().to_ascii_uppercase();
    if code.is_empty() || code.chars().count() > 32 {
        errors.add("code", "1 to 32 characters");
    }
    for (field, v) in [
        ("length_mm", body.length_mm),
        ("width_mm", body.width_mm),
        ("height_mm", body.height_mm),
        ("max_weight_g", body.max_weight_g),
    ] {
        if v == 0 {
            errors.add(field, "must be above 0");
        }
    }
    if body.cost.amount_minor < 0 {
        errors.add("cost.amount_minor", "must not be negative");
    }
    let currency = Currency::parse(&body.cost.currency)
        .map_err(|e| errors.add("cost.currency", e))
        .ok();
    let Some(currency) = currency.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let b = BoxType {
        code,
        length_mm: body.length_mm,
        width_mm: body.width_mm,
        height_mm: body.height_mm,
        max_weight_g: body.max_weight_g,
        cost: Money::new(body.cost.amount_minor, currency),
    };
    if !state
        .store
        .create_box(ctx.tenant_id, &b, Utc::now())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "duplicate-box",
            "The box exists",
            format!("the catalogue already has a box {}", b.code),
        ));
    }
    Ok(HttpResponse::Created().json(BoxResponse::from(b)))
}

/// The tenant's box catalogue, by code.
#[utoipa::path(
    tag = "warehouse",
    security(("api_key" = [])),
    responses((status = 200, body = BoxList))
)]
#[get("/boxes")]
pub async fn list_boxes(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let boxes = state.store.boxes(ctx.tenant_id).await?;
    Ok(HttpResponse::Ok().json(BoxList {
        items: boxes.into_iter().map(Into::into).collect(),
    }))
}

/// The caller's queue: tasks assigned to them or in progress, earliest ship-by first.
#[utoipa::path(
    tag = "warehouse",
    security(("api_key" = [])),
    responses((status = 200, body = TaskList))
)]
#[get("/warehouse/tasks/mine")]
pub async fn my_tasks(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let tasks = state.store.tasks_of(ctx.tenant_id, &ctx.actor).await?;
    Ok(HttpResponse::Ok().json(TaskList {
        items: tasks.into_iter().map(Into::into).collect(),
    }))
}

/// Claims the next open task (earliest ship-by first) for the caller.
#[utoipa::path(
    tag = "warehouse",
    request_body = Option<ClaimTaskRequest>,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ClaimedTask),
        (status = 400, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/tasks/claim")]
pub async fn claim_task(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: Option<web::Json<ClaimTaskRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map(|b| b.into_inner()).unwrap_or_default();
    let kind = match body
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        None => None,
        Some(raw) => Some(TaskKind::parse(raw).ok_or_else(|| {
            ValidationErrors::single("kind", "one of pick, pack, put_away, count, qc")
        })?),
    };
    let task = state
        .store
        .claim_task(ctx.tenant_id, &ctx.actor, kind)
        .await?;
    Ok(HttpResponse::Ok().json(ClaimedTask {
        task: task.map(Into::into),
    }))
}

fn path_task_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("task {raw} not found")))
}

async fn change_task(
    state: &AppState,
    ctx: &RequestContext,
    raw: &str,
    start: bool,
) -> Result<HttpResponse, ApiError> {
    let id = path_task_id(raw)?;
    let now = Utc::now();
    let staff = ctx.actor.clone();
    let changed = state
        .store
        .change_task(ctx.tenant_id, id, move |t| {
            if start {
                t.start(&staff, now)
            } else {
                t.complete(&staff, now)
            }
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("task {raw} not found")))??;
    Ok(HttpResponse::Ok().json(TaskResponse::from(changed)))
}

/// The assignee starts a claimed task.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = TaskResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/tasks/{id}/start")]
pub async fn start_task(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_task(&state, &ctx, &id, true).await
}

/// The assignee completes a task in progress.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = TaskResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/tasks/{id}/complete")]
pub async fn complete_task(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_task(&state, &ctx, &id, false).await
}
