//! Inbound shipments (ASN) over HTTP: announce, receive by scan, close into receipts and put-away, confirm put-away.

use super::*;

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
