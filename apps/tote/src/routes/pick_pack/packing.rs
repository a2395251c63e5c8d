//! Pack sessions over HTTP: open, read with the suggested box, scan, finish (and buy the label).

use super::*;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPackSessionRequest {
    pub order_id: uuid::Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackItemResponse {
    pub sku: String,
    pub barcode: Option<String>,
    pub expected: u32,
    pub scanned: u32,
    pub remaining: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoxSuggestion {
    /// The smallest catalogue box that holds the items; `null` when none fits.
    #[serde(rename = "box")]
    pub box_type: Option<BoxResponse>,
    /// Why there is no suggestion, or what it could not account for.
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackSessionResponse {
    pub id: uuid::Uuid,
    pub order_id: uuid::Uuid,
    /// `open` or `packed`.
    pub status: String,
    pub items: Vec<PackItemResponse>,
    pub remaining_total: u64,
    pub suggested: BoxSuggestion,
    #[serde(rename = "box")]
    pub box_code: Option<String>,
    pub weight_g: Option<u32>,
    pub version: i64,
    pub packed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackScanRequest {
    pub scan_id: uuid::Uuid,
    /// The item's GTIN or SKU.
    pub barcode: String,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackScanResponse {
    pub sku: String,
    /// Units of this SKU still to scan.
    pub remaining: u32,
    /// Units of the whole order still to scan.
    pub remaining_total: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishPackRequest {
    /// Box code from the catalogue (the suggestion, or another).
    #[serde(rename = "box")]
    pub box_code: String,
    /// The parcel's weight from the scale.
    pub weight_g: u32,
    /// Then rate-shop, buy the label and ship the packed units.
    #[serde(default)]
    pub buy_label: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelBought {
    pub shipment_id: uuid::Uuid,
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    /// The label's public tracking id.
    pub label_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinishPackResponse {
    pub session: PackSessionResponse,
    pub order_status: String,
    /// Present when `buy_label` was true and the label was bought.
    pub label: Option<LabelBought>,
    /// Present when `buy_label` was true and no label could be bought.
    pub label_error: Option<LabelError>,
}

async fn session_response(
    state: &AppState,
    ctx: &RequestContext,
    s: &PackSession,
) -> Result<PackSessionResponse, ApiError> {
    let boxes = state.store.boxes(ctx.tenant_id).await?;
    let mut dims = Vec::with_capacity(s.items().len());
    let mut unmeasured = Vec::new();
    for item in s.items() {
        let product = state.inventory.product(ctx, &item.sku).await.ok();
        let d = product.as_ref().and_then(|p| p.dimensions);
        let weight = product.as_ref().and_then(|p| p.weight_grams);
        if d.is_none() || weight.is_none() {
            unmeasured.push(item.sku.to_string());
        }
        dims.push(ItemDims {
            length_mm: d.map_or(0, |d| d.length_mm),
            width_mm: d.map_or(0, |d| d.width_mm),
            height_mm: d.map_or(0, |d| d.height_mm),
            weight_g: weight.unwrap_or(0),
            qty: item.expected.get(),
        });
    }
    let chosen = choose_box(&dims, &boxes);
    let note = match (&chosen, unmeasured.is_empty()) {
        (None, _) if boxes.is_empty() => {
            Some("the box catalogue is empty: add boxes with POST /api/v1/boxes".to_owned())
        }
        (None, _) => Some("no box in the catalogue holds these items".to_owned()),
        (Some(_), false) => Some(format!(
            "dimensions or weight unknown for {}: counted as zero",
            unmeasured.join(", ")
        )),
        (Some(_), true) => None,
    };
    Ok(PackSessionResponse {
        id: s.id(),
        order_id: s.order_id().into_uuid(),
        status: s.status().as_str().to_owned(),
        items: s
            .items()
            .iter()
            .map(|i| PackItemResponse {
                sku: i.sku.to_string(),
                barcode: i.barcode.clone(),
                expected: i.expected.get(),
                scanned: i.scanned.get(),
                remaining: i.remaining().get(),
            })
            .collect(),
        remaining_total: s.remaining_total(),
        suggested: BoxSuggestion {
            box_type: chosen.map(Into::into),
            note,
        },
        box_code: s.box_code().map(str::to_owned),
        weight_g: s.weight_g(),
        version: s.version(),
        packed_at: s.packed_at(),
    })
}

/// Opens a pack session for an order, expecting its reserved (picked) units; each item is
/// verified by its GTIN or SKU. An order has one open session: asking again answers it (200).
#[utoipa::path(
    tag = "warehouse",
    request_body = OpenPackSessionRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = PackSessionResponse),
        (status = 200, description = "the order's open session", body = PackSessionResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the order cannot be packed now", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/pack-sessions")]
pub async fn open_pack_session(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<OpenPackSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = OrderId::from_uuid(body.order_id);
    let order = state.orders.get(&ctx, order_id).await?;
    if !order.status.can_become(OrderStatus::Packed) || order.reserved_units() == 0 {
        return Err(order::OrderError::IllegalTransition {
            from: order.status,
            to: OrderStatus::Packed,
        }
        .into());
    }
    // One open session per order: asking again (a retry, a second station) answers it.
    if let Some(open) = state
        .store
        .open_pack_session_of(ctx.tenant_id, order_id)
        .await?
    {
        let body = session_response(&state, &ctx, &open).await?;
        return Ok(HttpResponse::Ok().json(body));
    }
    let mut expected = Vec::new();
    for line in order.lines.iter().filter(|l| !l.reserved().is_zero()) {
        let barcode = state
            .inventory
            .product(&ctx, &line.sku)
            .await
            .ok()
            .and_then(|p| p.barcode);
        expected.push((line.sku.clone(), barcode, line.reserved()));
    }
    let session = state.packing.open(&ctx, order_id, expected).await?;
    let body = session_response(&state, &ctx, &session).await?;
    Ok(HttpResponse::Created().json(body))
}

async fn stored_session(
    state: &AppState,
    ctx: &RequestContext,
    raw: &str,
) -> Result<PackSession, ApiError> {
    let id = path_uuid(raw, "pack session")?;
    state
        .store
        .pack_session(ctx.tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("pack session {raw} not found")))
}

/// A pack session: progress and the suggested box.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = PackSessionResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/warehouse/pack-sessions/{id}")]
pub async fn get_pack_session(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let session = stored_session(&state, &ctx, &id).await?;
    let body = session_response(&state, &ctx, &session).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Verifies units by scan. A wrong item answers a problem and changes nothing; the same
/// `scan_id` again answers the same.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    request_body = PackScanRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = PackScanResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "wrong-item or too-many", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/pack-sessions/{id}/scan")]
pub async fn scan_pack(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<PackScanRequest>,
) -> Result<HttpResponse, ApiError> {
    let session = path_uuid(&id, "pack session")?;
    let progress = state
        .packing
        .scan(&ctx, session, body.scan_id, &body.barcode, body.quantity)
        .await?;
    Ok(HttpResponse::Ok().json(PackScanResponse {
        sku: progress.sku.to_string(),
        remaining: progress.remaining.get(),
        remaining_total: progress.remaining_total,
    }))
}

/// Why the label could not be bought after packing (the packing itself stands).
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelError {
    /// Stable: `https://tote.dev/problems/label-not-bought`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub detail: String,
}

fn label_error(e: ShippingError) -> LabelError {
    let detail = match e {
        ShippingError::Invalid(v) => {
            v.0.iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        }
        other => other.to_string(),
    };
    LabelError {
        problem_type: format!("{}label-not-bought", crate::error::PROBLEM_BASE),
        detail: format!("{detail}; the order is packed: buy the label again later"),
    }
}

/// Finishes packing: every unit scanned, box and weight recorded, the order moves to
/// `packed`. With `buy_label`, the label is then bought for all packed units in that box
/// (the order ships); if none can be bought, the packing stands and `label_error` says why.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    request_body = FinishPackRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = FinishPackResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "units still to scan, or already packed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown box", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/pack-sessions/{id}/finish")]
pub async fn finish_pack(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<FinishPackRequest>,
) -> Result<HttpResponse, ApiError> {
    let session_id = path_uuid(&id, "pack session")?;
    let body = body.into_inner();
    let code = body.box_code.trim().to_ascii_uppercase();
    let boxes = state.store.boxes(ctx.tenant_id).await?;
    let chosen = boxes.into_iter().find(|b| b.code == code).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-box",
            "No such box",
            format!("no box {code} in the catalogue; see GET /api/v1/boxes"),
        )
    })?;
    let stored = stored_session(&state, &ctx, &id).await?;
    // The order must be packable before the session closes.
    let order = state.orders.get(&ctx, stored.order_id()).await?;
    if stored.status() == warehouse::PackStatus::Open
        && !order.status.can_become(OrderStatus::Packed)
    {
        return Err(order::OrderError::IllegalTransition {
            from: order.status,
            to: OrderStatus::Packed,
        }
        .into());
    }
    let session = state
        .packing
        .finish(&ctx, session_id, &chosen, body.weight_g)
        .await?;
    let order = state.orders.pack(&ctx, session.order_id()).await?;
    let (label, label_error) = if body.buy_label {
        let lines: Vec<(u32, i64)> = order
            .lines
            .iter()
            .filter(|l| !l.reserved().is_zero())
            .map(|l| (l.line_no, l.reserved().as_i64()))
            .collect();
        let bought = state
            .shipping
            .buy_label(
                &state.orders,
                &state.inventory,
                &ctx,
                order.id,
                LabelRequest {
                    lines,
                    parcel: Parcel {
                        weight_g: body.weight_g,
                        length_mm: chosen.length_mm,
                        width_mm: chosen.width_mm,
                        height_mm: chosen.height_mm,
                    },
                    service_level: None,
                    ship_from: None,
                    customs_reason: None,
                },
            )
            .await;
        match bought {
            Ok(bought) => (
                Some(LabelBought {
                    shipment_id: bought.shipment.id.into_uuid(),
                    carrier: bought.label.carrier.clone(),
                    service: bought.label.service.clone(),
                    tracking_number: bought.label.tracking_number.clone(),
                    label_id: bought.label.public_id.clone(),
                }),
                None,
            ),
            Err(e) => (None, Some(label_error(e))),
        }
    } else {
        (None, None)
    };
    let order_status = match &label {
        Some(_) => state.orders.get(&ctx, order.id).await?.status,
        None => order.status,
    };
    let session = session_response(&state, &ctx, &session).await?;
    Ok(HttpResponse::Ok().json(FinishPackResponse {
        session,
        order_status: order_status.as_str().to_owned(),
        label,
        label_error,
    }))
}
