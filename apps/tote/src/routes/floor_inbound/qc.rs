//! QC over HTTP: checklists, inspections, quarantines released or disposed.

use super::*;

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
