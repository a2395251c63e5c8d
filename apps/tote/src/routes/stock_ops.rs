//! Stock operations beyond counts: receipts, transfers, replenishment advice, valuation, the
//! ledger rebuild check, and catalogue CSV import/export.

use super::{MoneyDto, PageQuery, encode_cursor, sku_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use futures::stream;
use inventory::ReplenishmentPolicy;
use inventory::ports::ProductFilter;
use inventory::product_csv::{product_csv_header, product_csv_row};
use inventory::service::ReceiveStock;
use inventory::transfer::Transfer;
use kernel::{Currency, Money, PageRequest, Quantity, Sku, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    pub sku: String,
    pub quantity: i64,
    /// What one unit cost; moves the SKU's weighted average cost. Default: the product's
    /// `unit_cost`.
    pub unit_cost: Option<MoneyDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// Warehouse code; the default warehouse when absent.
    pub warehouse: Option<String>,
    /// e.g. the supplier's delivery note.
    pub reference: Option<String>,
    pub lines: Vec<ReceiptLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptResponse {
    pub received: Vec<ReceivedLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedLine {
    pub sku: String,
    pub on_hand: u32,
    pub available: u32,
}

fn money(field: String, m: MoneyDto) -> Result<Money, ApiError> {
    let currency = Currency::parse(&m.currency)
        .map_err(|e| ApiError::validation(ValidationErrors::single(field, e)))?;
    Ok(Money::new(m.amount_minor, currency))
}

/// Books goods in: on hand rises by a `receipt` movement and the weighted average cost moves.
#[utoipa::path(
    tag = "inventory",
    request_body = ReceiptRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = ReceiptResponse),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/receipts")]
pub async fn receive(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<ReceiptRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut lines = Vec::with_capacity(body.lines.len());
    for (i, l) in body.lines.into_iter().enumerate() {
        let cost = l
            .unit_cost
            .map(|m| money(format!("lines[{i}].unit_cost.currency"), m))
            .transpose()?;
        lines.push((l.sku, l.quantity, cost));
    }
    let levels = state
        .inventory
        .receive_stock(
            &ctx,
            ReceiveStock {
                warehouse: body.warehouse,
                lines,
                reference: body.reference,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(ReceiptResponse {
        received: levels
            .into_iter()
            .map(|l| ReceivedLine {
                sku: l.sku.to_string(),
                on_hand: l.on_hand.get(),
                available: l.available().get(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineRequest {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Warehouse codes.
    pub from: String,
    pub to: String,
    pub lines: Vec<TransferLineRequest>,
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferResponse {
    pub id: uuid::Uuid,
    /// `in_transit` or `received`.
    pub status: String,
    pub from_warehouse_id: uuid::Uuid,
    pub to_warehouse_id: uuid::Uuid,
    pub lines: Vec<TransferLineResponse>,
    pub reference: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferLineResponse {
    pub sku: String,
    pub quantity: u32,
}

impl From<Transfer> for TransferResponse {
    fn from(t: Transfer) -> Self {
        Self {
            id: t.id.into_uuid(),
            status: t.status.as_str().to_owned(),
            from_warehouse_id: t.from.into_uuid(),
            to_warehouse_id: t.to.into_uuid(),
            lines: t
                .lines
                .iter()
                .map(|l| TransferLineResponse {
                    sku: l.sku.to_string(),
                    quantity: l.quantity.get(),
                })
                .collect(),
            reference: t.reference,
            created_at: t.created_at,
            received_at: t.received_at,
        }
    }
}

fn path_transfer(raw: &str) -> Result<kernel::TransferId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("no transfer {raw:?}")))
}

/// Ships stock to another warehouse: it leaves `from` now and is `incoming` at `to` until
/// received. All lines or none (409 if `from` lacks available stock).
#[utoipa::path(
    tag = "inventory",
    request_body = TransferRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = TransferResponse),
        (status = 409, description = "not enough available", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/transfers")]
pub async fn create_transfer(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let transfer = state
        .inventory
        .dispatch_transfer(
            &ctx,
            &b.from,
            &b.to,
            b.lines.into_iter().map(|l| (l.sku, l.quantity)).collect(),
            b.reference,
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/transfers/{}", transfer.id),
        ))
        .json(TransferResponse::from(transfer)))
}

#[utoipa::path(
    tag = "inventory",
    params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = TransferResponse), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[get("/transfers/{id}")]
pub async fn get_transfer(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let transfer = state.inventory.transfer(&ctx, path_transfer(&id)?).await?;
    Ok(HttpResponse::Ok().json(TransferResponse::from(transfer)))
}

/// The goods arrived: `incoming` becomes on hand at the destination.
#[utoipa::path(
    tag = "inventory",
    params(("id" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = TransferResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already received", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/transfers/{id}/receive")]
pub async fn receive_transfer(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let transfer = state
        .inventory
        .receive_transfer(&ctx, path_transfer(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(TransferResponse::from(transfer)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReplenishmentQuery {
    /// Supplier lead time when the product has none; default 7.
    pub lead_time_days: Option<u32>,
    /// Days between orders to the supplier; default 7.
    pub review_period_days: Option<u32>,
    /// Chance of not running out during the lead time, 0.5–0.9999; default 0.95.
    pub service_level: Option<f64>,
    /// Days of demand history to forecast from, 7–365; default 90.
    pub history_days: Option<u32>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdviceResponse {
    pub sku: String,
    pub available: u32,
    pub incoming: u32,
    pub forecast_per_day: f64,
    /// `no_demand`, `exponential_smoothing`, `croston` or `croston_sba`.
    pub method: String,
    pub safety_stock: u32,
    pub reorder_point: u32,
    pub suggested_quantity: u32,
    pub should_reorder: bool,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvicePage {
    pub items: Vec<AdviceResponse>,
    pub next_cursor: Option<String>,
}

/// What to reorder and why: demand forecast (exponential smoothing, or Croston when demand is
/// intermittent), safety stock, reorder point and a suggested quantity per SKU.
#[utoipa::path(
    tag = "inventory",
    params(ReplenishmentQuery),
    security(("api_key" = [])),
    responses((status = 200, body = AdvicePage), (status = 400, body = Problem, content_type = "application/problem+json"))
)]
#[get("/inventory/replenishment")]
pub async fn replenishment(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<ReplenishmentQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let defaults = ReplenishmentPolicy::default();
    let policy = ReplenishmentPolicy {
        lead_time_days: q.lead_time_days.unwrap_or(defaults.lead_time_days).min(365),
        review_period_days: q
            .review_period_days
            .unwrap_or(defaults.review_period_days)
            .min(365),
        service_level: q.service_level.unwrap_or(defaults.service_level),
        ..defaults
    };
    let history_days = q.history_days.unwrap_or(90);
    if !(7..=365).contains(&history_days) {
        return Err(ApiError::validation(ValidationErrors::single(
            "history_days",
            "history_days must be between 7 and 365",
        )));
    }
    let page = sku_page(&PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    })?;
    let advice = state
        .inventory
        .replenishment(&ctx, &policy, history_days, page)
        .await?;
    Ok(HttpResponse::Ok().json(AdvicePage {
        next_cursor: advice.next_cursor.map(|s| encode_cursor(s.as_str())),
        items: advice
            .items
            .into_iter()
            .map(|a| AdviceResponse {
                sku: a.sku.to_string(),
                available: a.available.get(),
                incoming: a.incoming.get(),
                forecast_per_day: a.forecast_per_day,
                method: a.method.as_str().to_owned(),
                safety_stock: a.safety_stock.get(),
                reorder_point: a.reorder_point.get(),
                suggested_quantity: a.suggested_quantity.get(),
                should_reorder: a.should_reorder,
                reason: a.reason,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValuationResponse {
    /// One report per currency your costs are in.
    pub reports: Vec<serde_json::Value>,
}

/// Value of stock on hand at weighted average cost, per warehouse and in total.
#[utoipa::path(
    tag = "inventory",
    security(("api_key" = [])),
    responses((status = 200, body = ValuationResponse))
)]
#[get("/inventory/valuation")]
pub async fn valuation(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let reports = state.inventory.valuation(&ctx).await?;
    let reports = reports
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "currency": r.currency.to_string(),
                "total": MoneyDto::from(r.total),
                "warehouses": r.warehouses.iter().map(|w| serde_json::json!({
                    "warehouse": w.warehouse,
                    "total": MoneyDto::from(w.total),
                    "lines": w.lines.iter().map(|l| serde_json::json!({
                        "sku": l.sku,
                        "on_hand": l.on_hand,
                        "average_cost": MoneyDto::from(l.average_cost),
                        "value": MoneyDto::from(l.value),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(ValuationResponse { reports }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RebuildQuery {
    /// Overwrite drifted levels with the ledger's sums (default false: report only).
    pub repair: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftResponse {
    pub levels_checked: usize,
    pub repaired: bool,
    pub drift: Vec<serde_json::Value>,
}

/// Recomputes every stock level from the movement ledger and reports any difference; with
/// `repair=true`, makes the levels agree with the ledger.
#[utoipa::path(
    tag = "inventory",
    params(RebuildQuery),
    security(("api_key" = [])),
    responses((status = 200, body = DriftResponse))
)]
#[post("/ledger/rebuild")]
pub async fn rebuild(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<RebuildQuery>,
) -> Result<HttpResponse, ApiError> {
    let report = state
        .inventory
        .rebuild_levels(&ctx, query.repair.unwrap_or(false))
        .await?;
    Ok(HttpResponse::Ok().json(DriftResponse {
        levels_checked: report.levels_checked,
        repaired: report.repaired,
        drift: report
            .drift
            .iter()
            .map(|d| {
                serde_json::json!({
                    "sku": d.sku, "warehouse_id": d.warehouse_id,
                    "live": { "on_hand": d.live.on_hand, "reserved": d.live.reserved, "incoming": d.live.incoming },
                    "ledger": { "on_hand": d.ledger.on_hand, "reserved": d.ledger.reserved, "incoming": d.ledger.incoming },
                })
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Create the good rows even if others are bad (default false: all or nothing).
    pub best_effort: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    pub created: usize,
    pub errors: Vec<ImportError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportError {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

/// Imports products from a CSV body (`Content-Type: text/csv`). Columns: sku, name (required),
/// barcode, weight_grams, length_mm, width_mm, height_mm, unit_cost_minor, currency, hs_code,
/// country_of_origin, low_stock_threshold, active. All or nothing unless `best_effort=true`;
/// every refused row is reported with its line.
#[utoipa::path(
    tag = "catalogue",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "imported", body = ImportResponse),
        (status = 422, description = "rows refused (nothing created unless best_effort)", body = ImportResponse)
    )
)]
#[post("/catalogue/import")]
pub async fn import(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let report = state
        .inventory
        .import_products(&ctx, &body, query.best_effort.unwrap_or(false))
        .await?;
    let status = if report.errors.is_empty() {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(HttpResponse::build(status).json(ImportResponse {
        created: report.created,
        errors: report
            .errors
            .into_iter()
            .map(|e| ImportError {
                line: e.line,
                field: e.field,
                message: e.message,
            })
            .collect(),
    }))
}

/// Every product (archived too) as CSV, streamed page by page; reads back with import.
#[utoipa::path(
    tag = "catalogue",
    security(("api_key" = [])),
    responses((status = 200, description = "CSV", content_type = "text/csv"))
)]
#[get("/catalogue/export")]
pub async fn export(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    const PAGE: u32 = 200;
    struct Cursor {
        after: Option<Sku>,
        done: bool,
        header: bool,
    }
    let filter = ProductFilter {
        search: None,
        include_archived: true,
    };
    let body = stream::unfold(
        (
            Cursor {
                after: None,
                done: false,
                header: false,
            },
            state,
            ctx,
        ),
        move |(mut cursor, state, ctx)| {
            let filter = filter.clone();
            async move {
                if !cursor.header {
                    cursor.header = true;
                    let head = web::Bytes::from(product_csv_header());
                    return Some((Ok::<_, actix_web::Error>(head), (cursor, state, ctx)));
                }
                if cursor.done {
                    return None;
                }
                let page = PageRequest::new(cursor.after.clone(), Some(PAGE));
                let page = match state.inventory.products(&ctx, &filter, page).await {
                    Ok(p) => p,
                    Err(e) => {
                        // The status line has gone out: end the stream broken, and say why in the log.
                        tracing::error!(error = %e, "catalogue export failed mid-stream");
                        cursor.done = true;
                        let err = actix_web::error::ErrorInternalServerError("export interrupted");
                        return Some((Err(err), (cursor, state, ctx)));
                    }
                };
                let mut chunk = String::new();
                for p in &page.items {
                    let threshold = p.low_stock_threshold.and_then(|t| Quantity::new(t).ok());
                    chunk.push_str(&product_csv_row(p, threshold, p.active));
                }
                cursor.done = page.next_cursor.is_none();
                cursor.after = page.next_cursor;
                Some((Ok(web::Bytes::from(chunk)), (cursor, state, ctx)))
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"products.csv\"",
        ))
        .streaming(body))
}
