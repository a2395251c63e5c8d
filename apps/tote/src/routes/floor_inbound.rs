//! Receiving (inbound shipments / ASN, receive by scan, close, put-away), cycle counts with
//! accuracy, and QC (checklists, inspections, quarantine release/dispose). Thin: parse, call
//! `warehouse::InboundService`, map.

use super::{encode_cursor, page_request};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use warehouse::{
    Accuracy, ClosedInbound, CycleCount, DailyAccuracy, Discrepancy, IdempotencyKey, InboundStatus,
    InboundView, InspectCmd, InspectionOutcome, NewInbound, PutAwayTask, QcChecklist,
    QuarantineRecord, QuarantineStatus, ReceiveScan, Variance,
};

fn path_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("{what} {raw} not found")))
}

/// `Idempotency-Key` plus a fingerprint of the (parsed, re-serialised) body it came with.
fn idempotency<T: Serialize>(
    req: &HttpRequest,
    body: &T,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::bad_request(
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters, e.g. a UUID",
        ));
    }
    let canonical = serde_json::to_vec(body).map_err(ApiError::internal)?;
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        fingerprint: hex::encode(Sha256::digest(&canonical)),
    }))
}

fn cursor_page(
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<kernel::PageRequest<Uuid>, ApiError> {
    page_request(limit, cursor, |c| c.parse::<Uuid>().ok())
}

// ---------------------------------------------------------------- inbound shipments

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundLineRequest {
    pub sku: String,
    /// Units the seller says are coming, at least 1.
    pub expected: i64,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInboundRequest {
    /// The seller's own reference (PO number), 1 to 100 characters.
    pub reference: String,
    /// The receiving warehouse's code, e.g. `MAIN`.
    pub warehouse: String,
    /// Each SKU once; every SKU must be in the catalogue (422 names those that are not).
    pub lines: Vec<InboundLineRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    /// The handheld's id for this scan: a replayed scan id is applied once.
    pub scan_id: Uuid,
    /// The product's GTIN/barcode or its SKU.
    pub barcode: String,
    pub quantity: i64,
    /// Damaged units are recorded as a discrepancy and never booked into stock.
    #[serde(default)]
    pub damaged: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInboundRequest {
    /// Where SKUs without a preferred bin are put away; required if any has none.
    pub default_bin: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundLineResponse {
    pub sku: String,
    pub barcode: Option<String>,
    pub expected: u32,
    /// Good units received.
    pub received: u32,
    pub damaged: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscrepancyResponse {
    pub sku: String,
    pub expected: u32,
    /// Good units beyond what was expected.
    pub over: u32,
    /// Expected units that did not arrive in good condition (damaged count here too).
    pub under: u32,
    pub damaged: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PutAwayResponse {
    /// The warehouse task's id: confirm it with POST /warehouse/put-away-tasks/{id}/confirm.
    pub task_id: Uuid,
    pub status: String,
    pub inbound_id: Uuid,
    pub sku: String,
    pub quantity: u32,
    pub suggested_bin: String,
    pub placed_bin: Option<String>,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundResponse {
    pub id: Uuid,
    pub reference: String,
    pub warehouse: String,
    /// `expected`, `receiving` or `closed`.
    pub status: String,
    pub lines: Vec<InboundLineResponse>,
    /// Once closed: every line that differs from the ASN or had damaged units.
    pub discrepancies: Vec<DiscrepancyResponse>,
    pub put_away: Vec<PutAwayResponse>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptResponse {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosedInboundResponse {
    #[serde(flatten)]
    pub shipment: InboundResponse,
    /// Good units booked into stock (receipt movements).
    pub receipts: Vec<ReceiptResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiveResponse {
    pub sku: String,
    pub expected: u32,
    pub received: u32,
    pub damaged: u32,
    pub shipment: InboundResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundPage {
    pub items: Vec<InboundResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboundListQuery {
    /// `expected`, `receiving` or `closed`.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn discrepancy(d: &Discrepancy) -> DiscrepancyResponse {
    DiscrepancyResponse {
        sku: d.sku.to_string(),
        expected: d.expected.get(),
        over: d.over.get(),
        under: d.under.get(),
        damaged: d.damaged.get(),
    }
}

impl From<&PutAwayTask> for PutAwayResponse {
    fn from(p: &PutAwayTask) -> Self {
        let done = p.task.completed_at.is_some();
        Self {
            task_id: p.task.id,
            status: p.task.status.as_str().to_owned(),
            inbound_id: p.inbound_id,
            sku: p.sku.to_string(),
            quantity: p.quantity.get(),
            suggested_bin: p.suggested_bin.to_string(),
            placed_bin: p.placed_bin.as_ref().map(ToString::to_string),
            completed_by: if done { p.task.assignee.clone() } else { None },
            completed_at: p.task.completed_at,
        }
    }
}

impl From<&InboundView> for InboundResponse {
    fn from(v: &InboundView) -> Self {
        let s = &v.shipment;
        Self {
            id: s.id(),
            reference: s.reference().to_owned(),
            warehouse: v.warehouse.code.clone(),
            status: s.status().as_str().to_owned(),
            lines: s
                .lines()
                .iter()
                .map(|l| InboundLineResponse {
                    sku: l.sku.to_string(),
                    barcode: l.barcode.clone(),
                    expected: l.expected.get(),
                    received: l.received.get(),
                    damaged: l.damaged.get(),
                })
                .collect(),
            discrepancies: v.discrepancies.iter().map(discrepancy).collect(),
            put_away: v.put_away.iter().map(Into::into).collect(),
            version: s.version(),
            created_at: s.created_at(),
            closed_at: s.closed_at(),
        }
    }
}

impl From<&ClosedInbound> for ClosedInboundResponse {
    fn from(c: &ClosedInbound) -> Self {
        Self {
            shipment: (&c.view).into(),
            receipts: c
                .closed
                .receipts
                .iter()
                .map(|(sku, q)| ReceiptResponse {
                    sku: sku.to_string(),
                    quantity: q.get(),
                })
                .collect(),
        }
    }
}

#[utoipa::path(
    tag = "receiving",
    request_body = CreateInboundRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = InboundResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown SKUs or warehouse", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/inbound-shipments")]
pub async fn create_inbound(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    body: web::Json<CreateInboundRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let key = idempotency(&req, &body)?;
    let cmd = NewInbound {
        reference: body.reference,
        warehouse: body.warehouse,
        lines: body
            .lines
            .into_iter()
            .map(|l| (l.sku, l.expected))
            .collect(),
    };
    let view = state.floor.create_inbound(&ctx, cmd, key.as_ref()).await?;
    Ok(HttpResponse::Created().json(InboundResponse::from(&view)))
}

#[utoipa::path(
    tag = "receiving",
    params(InboundListQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = InboundPage),
        (status = 400, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/inbound-shipments")]
pub async fn list_inbound(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<InboundListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(InboundStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown status {s:?}; use expected, receiving or closed"
            ))
        })?),
    };
    let page = cursor_page(query.limit, query.cursor.as_deref())?;
    let page = state.floor.list_inbound(&ctx, status, page).await?;
    Ok(HttpResponse::Ok().json(InboundPage {
        next_cursor: page.next_cursor.map(|c| encode_cursor(&c.to_string())),
        items: page.items.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    tag = "receiving",
    params(("id" = Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = InboundResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/inbound-shipments/{id}")]
pub async fn get_inbound(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "inbound shipment")?;
    let view = state.floor.inbound(&ctx, id).await?;
    Ok(HttpResponse::Ok().json(InboundResponse::from(&view)))
}

#[utoipa::path(
    tag = "receiving",
    params(("id" = Uuid, Path)),
    request_body = ReceiveRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ReceiveResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the shipment is closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the item is not on this shipment", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/inbound-shipments/{id}/receive")]
pub async fn receive(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<ReceiveRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "inbound shipment")?;
    let body = body.into_inner();
    let scan = ReceiveScan {
        scan_id: body.scan_id,
        barcode: body.barcode,
        quantity: body.quantity,
        damaged: body.damaged,
    };
    let (progress, view) = state.floor.receive(&ctx, id, scan).await?;
    Ok(HttpResponse::Ok().json(ReceiveResponse {
        sku: progress.sku.to_string(),
        expected: progress.expected.get(),
        received: progress.received.get(),
        damaged: progress.damaged.get(),
        shipment: (&view).into(),
    }))
}

#[utoipa::path(
    tag = "receiving",
    params(("id" = Uuid, Path)),
    request_body = CloseInboundRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ClosedInboundResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no bin to put some SKUs away to", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/inbound-shipments/{id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: Option<web::Json<CloseInboundRequest>>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "inbound shipment")?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let closed = state.floor.close(&ctx, id, body.default_bin).await?;
    Ok(HttpResponse::Ok().json(ClosedInboundResponse::from(&closed)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmPutAwayRequest {
    /// The bin the units were placed in (any bin of the task's warehouse).
    pub bin: String,
}

#[utoipa::path(
    tag = "receiving",
    params(("id" = Uuid, Path)),
    request_body = ConfirmPutAwayRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = PutAwayResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the task is done already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no such bin", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/put-away-tasks/{id}/confirm")]
pub async fn confirm_put_away(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<ConfirmPutAwayRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "put-away task")?;
    let done = state.floor.confirm_put_away(&ctx, id, &body.bin).await?;
    Ok(HttpResponse::Ok().json(PutAwayResponse::from(&done)))
}

// ---------------------------------------------------------------- cycle counts

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCountRequest {
    /// Warehouse code, e.g. `MAIN`.
    pub warehouse: String,
    /// Bin code, e.g. `A-01-03-B`.
    pub bin: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountLineRequest {
    pub sku: String,
    /// Units found; a recount of the SKU replaces the figure.
    pub counted: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountLineResponse {
    pub sku: String,
    pub expected: u32,
    pub counted: u32,
    /// `counted - expected`.
    pub delta: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountResponse {
    pub id: Uuid,
    pub bin: String,
    /// `open` or `submitted`.
    pub status: String,
    /// Every SKU on the books or found (uncounted book SKUs count as zero found).
    pub lines: Vec<CountLineResponse>,
    /// Only the lines that differ.
    pub variances: Vec<CountLineResponse>,
    pub counter: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub counted_at: Option<DateTime<Utc>>,
}

fn count_line(v: &Variance) -> CountLineResponse {
    CountLineResponse {
        sku: v.sku.to_string(),
        expected: v.expected.get(),
        counted: v.counted.get(),
        delta: v.delta,
    }
}

impl From<&CycleCount> for CountResponse {
    fn from(c: &CycleCount) -> Self {
        Self {
            id: c.id(),
            bin: c.bin().to_string(),
            status: c.status().as_str().to_owned(),
            lines: c.lines().iter().map(count_line).collect(),
            variances: c.variances().iter().map(count_line).collect(),
            counter: c.counter().map(str::to_owned),
            version: c.version(),
            created_at: c.created_at(),
            counted_at: c.counted_at(),
        }
    }
}

#[utoipa::path(
    tag = "counts",
    request_body = OpenCountRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = CountResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no such warehouse or bin", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/counts")]
pub async fn open_count(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    body: web::Json<OpenCountRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency(&req, &*body)?;
    let count = state
        .floor
        .open_count(&ctx, &body.warehouse, &body.bin, key.as_ref())
        .await?;
    Ok(HttpResponse::Created().json(CountResponse::from(&count)))
}

#[utoipa::path(
    tag = "counts",
    params(("id" = Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = CountResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/warehouse/counts/{id}")]
pub async fn get_count(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let count = state.floor.count(&ctx, path_id(&id, "count")?).await?;
    Ok(HttpResponse::Ok().json(CountResponse::from(&count)))
}

#[utoipa::path(
    tag = "counts",
    params(("id" = Uuid, Path)),
    request_body = CountLineRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = CountResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the count is submitted", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/counts/{id}/lines")]
pub async fn count_line_route(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<CountLineRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "count")?;
    let count = state
        .floor
        .record_count(&ctx, id, &body.sku, body.counted)
        .await?;
    Ok(HttpResponse::Ok().json(CountResponse::from(&count)))
}

#[utoipa::path(
    tag = "counts",
    params(("id" = Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = CountResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "submitted already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "on hand would drop below reserved", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/counts/{id}/submit")]
pub async fn submit_count(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "count")?;
    let (count, _) = state.floor.submit_count(&ctx, id).await?;
    Ok(HttpResponse::Ok().json(CountResponse::from(&count)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccuracyQuery {
    pub warehouse: String,
    /// Inclusive, RFC 3339 or `YYYY-MM-DD`; default 30 days before `to`.
    pub from: Option<String>,
    /// Exclusive, RFC 3339 or `YYYY-MM-DD`; default now.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccuracyFigures {
    pub lines: u64,
    pub exact_lines: u64,
    /// Share of counted lines with no variance, in basis points (10000 = 100 %).
    pub line_accuracy_bps: u32,
    pub expected_units: u64,
    pub variance_units: u64,
    /// `1 - variance_units / expected_units`, in basis points, floored at 0.
    pub unit_accuracy_bps: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyAccuracyResponse {
    pub day: NaiveDate,
    pub counts: usize,
    #[serde(flatten)]
    pub accuracy: AccuracyFigures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccuracyResponse {
    pub warehouse: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub days: Vec<DailyAccuracyResponse>,
    pub total: AccuracyFigures,
}

fn figures(a: &Accuracy) -> AccuracyFigures {
    AccuracyFigures {
        lines: a.lines,
        exact_lines: a.exact_lines,
        line_accuracy_bps: a.line_accuracy_bps,
        expected_units: a.expected_units,
        variance_units: a.variance_units,
        unit_accuracy_bps: a.unit_accuracy_bps,
    }
}

fn instant(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`{field}` must be an RFC 3339 time or a YYYY-MM-DD date"
            ))
        })
}

#[utoipa::path(
    tag = "counts",
    params(AccuracyQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = AccuracyResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no such warehouse", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/warehouse/accuracy")]
pub async fn accuracy(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<AccuracyQuery>,
) -> Result<HttpResponse, ApiError> {
    let to = match query.to.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => instant("to", raw)?,
        None => Utc::now(),
    };
    let from = match query.from.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => instant("from", raw)?,
        None => to - chrono::Duration::days(30),
    };
    if (to - from).num_days() > 366 {
        return Err(ApiError::bad_request(
            "ask for at most 366 days of accuracy at a time",
        ));
    }
    let (days, total) = state
        .floor
        .accuracy(&ctx, &query.warehouse, from, to)
        .await?;
    Ok(HttpResponse::Ok().json(AccuracyResponse {
        warehouse: query.warehouse.trim().to_ascii_uppercase(),
        from,
        to,
        days: days
            .iter()
            .map(|d: &DailyAccuracy| DailyAccuracyResponse {
                day: d.day,
                counts: d.counts,
                accuracy: figures(&d.accuracy),
            })
            .collect(),
        total: figures(&total),
    }))
}

// ---------------------------------------------------------------- QC

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChecklistRequest {
    /// 1 to 100 characters.
    pub name: String,
    /// `receipt` or `return`.
    pub stage: String,
    /// The questions, in order; answers are pass/fail per question.
    pub items: Vec<String>,
    /// Only for this SKU; a SKU's own checklist wins over a general one.
    pub sku: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistResponse {
    pub id: Uuid,
    pub name: String,
    pub stage: String,
    pub sku: Option<String>,
    pub items: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistList {
    pub items: Vec<ChecklistResponse>,
}

impl From<&QcChecklist> for ChecklistResponse {
    fn from(c: &QcChecklist) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            stage: c.stage.as_str().to_owned(),
            sku: c.sku.as_ref().map(ToString::to_string),
            items: c.questions.clone(),
        }
    }
}

#[utoipa::path(
    tag = "qc",
    request_body = CreateChecklistRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = ChecklistResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/qc/checklists")]
pub async fn create_checklist(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    body: web::Json<CreateChecklistRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let key = idempotency(&req, &body)?;
    let checklist = state
        .floor
        .create_checklist(
            &ctx,
            &body.name,
            &body.stage,
            body.sku.as_deref(),
            body.items,
            key.as_ref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(ChecklistResponse::from(&checklist)))
}

#[utoipa::path(
    tag = "qc",
    security(("api_key" = [])),
    responses((status = 200, body = ChecklistList))
)]
#[get("/qc/checklists")]
pub async fn list_checklists(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let lists = state.floor.checklists(&ctx).await?;
    Ok(HttpResponse::Ok().json(ChecklistList {
        items: lists.iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    pub checklist: Uuid,
    pub sku: String,
    /// Warehouse code where the units are.
    pub warehouse: String,
    pub quantity: i64,
    /// Pass (`true`) or fail per checklist item, in order.
    pub answers: Vec<bool>,
    /// Your reference, e.g. the ASN or RMA number.
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineResponse {
    pub id: Uuid,
    pub sku: String,
    pub quantity: u32,
    pub warehouse_id: Uuid,
    pub reason: String,
    /// `held`, `released` or `disposed`.
    pub status: String,
    pub inspection_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<&QuarantineRecord> for QuarantineResponse {
    fn from(r: &QuarantineRecord) -> Self {
        Self {
            id: r.quarantine.id,
            sku: r.quarantine.sku.to_string(),
            quantity: r.quarantine.quantity.get(),
            warehouse_id: r.warehouse.into_uuid(),
            reason: r.quarantine.reason.clone(),
            status: r.quarantine.status.as_str().to_owned(),
            inspection_id: r.inspection_id,
            created_at: r.created_at,
            settled_at: r.quarantine.settled_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionResponse {
    pub id: Uuid,
    pub checklist: Uuid,
    pub stage: String,
    pub sku: String,
    pub quantity: u32,
    pub inspector: String,
    /// `released` (all passed) or `quarantined`.
    pub outcome: String,
    pub reference: Option<String>,
    pub inspected_at: DateTime<Utc>,
    pub quarantine: Option<QuarantineResponse>,
}

impl From<&InspectionOutcome> for InspectionResponse {
    fn from(o: &InspectionOutcome) -> Self {
        let r = &o.inspection.result;
        Self {
            id: o.inspection.id,
            checklist: r.checklist_id,
            stage: r.stage.as_str().to_owned(),
            sku: r.sku.to_string(),
            quantity: r.quantity.get(),
            inspector: r.inspector.clone(),
            outcome: if o.quarantine.is_some() {
                "quarantined"
            } else {
                "released"
            }
            .to_owned(),
            reference: o.inspection.reference.clone(),
            inspected_at: r.inspected_at,
            quarantine: o.quarantine.as_ref().map(Into::into),
        }
    }
}

#[utoipa::path(
    tag = "qc",
    request_body = InspectRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = InspectionResponse),
        (status = 404, description = "no such checklist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not that many units available to quarantine", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/qc/inspections")]
pub async fn inspect(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    body: web::Json<InspectRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let key = idempotency(&req, &body)?;
    let outcome = state
        .floor
        .inspect(
            &ctx,
            InspectCmd {
                checklist: body.checklist,
                sku: body.sku,
                warehouse: body.warehouse,
                quantity: body.quantity,
                answers: body.answers,
                reference: body.reference,
            },
            key.as_ref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(InspectionResponse::from(&outcome)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantinePage {
    pub items: Vec<QuarantineResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuarantineListQuery {
    /// `held`, `released` or `disposed`.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(
    tag = "qc",
    params(QuarantineListQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = QuarantinePage),
        (status = 400, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/qc/quarantines")]
pub async fn list_quarantines(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<QuarantineListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(QuarantineStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown status {s:?}; use held, released or disposed"
            ))
        })?),
    };
    let page = cursor_page(query.limit, query.cursor.as_deref())?;
    let page = state.floor.quarantines(&ctx, status, page).await?;
    Ok(HttpResponse::Ok().json(QuarantinePage {
        next_cursor: page.next_cursor.map(|c| encode_cursor(&c.to_string())),
        items: page.items.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    tag = "qc",
    params(("id" = Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = QuarantineResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "released or disposed already", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/qc/quarantines/{id}/release")]
pub async fn release_quarantine(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "quarantine")?;
    let record = state.floor.release_quarantine(&ctx, id).await?;
    Ok(HttpResponse::Ok().json(QuarantineResponse::from(&record)))
}

#[utoipa::path(
    tag = "qc",
    params(("id" = Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = QuarantineResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "released or disposed already", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/qc/quarantines/{id}/dispose")]
pub async fn dispose_quarantine(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "quarantine")?;
    let record = state.floor.dispose_quarantine(&ctx, id).await?;
    Ok(HttpResponse::Ok().json(QuarantineResponse::from(&record)))
}
