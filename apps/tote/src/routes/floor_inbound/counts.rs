//! Cycle counts and inventory accuracy over HTTP.

use super::*;

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
