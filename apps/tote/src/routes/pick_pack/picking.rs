//! Pick lists over HTTP: plan (single, batch or wave), read, scan to confirm, report short.

use super::*;

/// Orders per pick list unless the request says otherwise.
const DEFAULT_MAX_ORDERS: usize = 50;
const MAX_ORDERS: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaveRequest {
    /// Warehouse code: its allocated orders, grouped by ship-by day and service level.
    pub warehouse: String,
    /// Orders per pick list (1 to 200, default 50).
    pub max_orders: Option<usize>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePickListsRequest {
    /// One order (single pick) or several (batch pick), all allocated.
    pub order_ids: Option<Vec<uuid::Uuid>>,
    /// Or a wave of a warehouse's allocated orders.
    pub wave: Option<WaveRequest>,
    /// Orders per pick list for `order_ids` (1 to 200, default 50).
    pub max_orders: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationResponse {
    pub order_id: uuid::Uuid,
    pub line_no: u32,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickLineResponse {
    /// 1-based position on the walk.
    pub seq: u32,
    pub bin: String,
    pub zone: String,
    pub walk_order: u32,
    pub sku: String,
    pub barcode: Option<String>,
    pub quantity: u32,
    pub picked: u32,
    pub short: u32,
    pub remaining: u32,
    pub allocations: Vec<AllocationResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnallocatedResponse {
    pub sku: String,
    pub missing: u32,
    pub affected: Vec<AllocationResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickProgress {
    pub total_units: u64,
    pub picked_units: u64,
    pub short_units: u64,
    pub lines_done: usize,
    pub lines_total: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickListResponse {
    pub id: uuid::Uuid,
    /// `open`, `picking` or `complete`.
    pub status: String,
    pub orders: Vec<uuid::Uuid>,
    /// In walk order.
    pub lines: Vec<PickLineResponse>,
    pub progress: PickProgress,
    /// The line to walk to now; `null` once complete.
    pub current_line: Option<PickLineResponse>,
    /// What no bin held when the list was planned.
    pub unallocated: Vec<UnallocatedResponse>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickListCreated {
    pub items: Vec<PickListResponse>,
    /// The pick task opened for each list, in the same order.
    pub task_ids: Vec<uuid::Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickScanRequest {
    /// Made by the scanner once per physical scan; a retry sends the same id.
    pub scan_id: uuid::Uuid,
    /// The bin label scanned.
    pub bin: String,
    /// The item's GTIN or SKU.
    pub barcode: String,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PickScanResponse {
    /// `next` (walk to `next_line`) or `complete`.
    pub outcome: String,
    pub next_line: Option<PickLineResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortRequest {
    /// The pick line.
    pub seq: u32,
    /// Units found in the bin for the line, counting those already picked.
    pub found: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShortOrderResponse {
    pub order_id: uuid::Uuid,
    pub line_no: u32,
    /// Units the line lost.
    pub quantity: u32,
    /// The order after the write-off and any re-allocation.
    pub order_status: String,
    /// Units of the line still waiting for stock.
    pub backordered: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShortResponse {
    pub sku: String,
    pub bin: String,
    pub missing: u32,
    pub affected: Vec<ShortOrderResponse>,
    pub pick_list: PickListResponse,
}

fn allocations(a: &[warehouse::Allocation]) -> Vec<AllocationResponse> {
    a.iter()
        .map(|a| AllocationResponse {
            order_id: a.order_id.into_uuid(),
            line_no: a.line_no,
            quantity: units(a.quantity),
        })
        .collect()
}

fn line_response(l: &PickLine) -> PickLineResponse {
    PickLineResponse {
        seq: l.seq,
        bin: l.bin.code.to_string(),
        zone: l.bin.zone.clone(),
        walk_order: l.bin.walk_order,
        sku: l.sku.to_string(),
        barcode: l.barcode.clone(),
        quantity: units(l.quantity),
        picked: units(l.picked),
        short: units(l.short),
        remaining: units(l.remaining()),
        allocations: allocations(&l.allocations),
    }
}

fn list_response(list: &PickList) -> PickListResponse {
    let lines = list.lines();
    PickListResponse {
        id: list.id(),
        status: list.status().as_str().to_owned(),
        orders: list.orders().iter().map(|o| o.into_uuid()).collect(),
        lines: lines.iter().map(line_response).collect(),
        progress: PickProgress {
            total_units: list.total_units(),
            picked_units: lines.iter().map(|l| u64::from(l.picked.get())).sum(),
            short_units: lines.iter().map(|l| u64::from(l.short.get())).sum(),
            lines_done: lines.iter().filter(|l| l.is_done()).count(),
            lines_total: lines.len(),
        },
        current_line: list.current_line().map(line_response),
        unallocated: list
            .unallocated()
            .iter()
            .map(|u| UnallocatedResponse {
                sku: u.sku.to_string(),
                missing: units(u.missing),
                affected: allocations(&u.affected),
            })
            .collect(),
        version: list.version(),
        created_at: list.created_at(),
        completed_at: list.completed_at(),
    }
}

fn max_orders(raw: Option<usize>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_MAX_ORDERS),
        Some(n) if (1..=MAX_ORDERS).contains(&n) => Ok(n),
        Some(_) => Err(ValidationErrors::single("max_orders", "1 to 200").into()),
    }
}

fn pickable(order: &Order) -> bool {
    matches!(
        order.status,
        OrderStatus::Allocated | OrderStatus::PartiallyAllocated
    )
}

/// The orders' reserved units as pickable orders, per warehouse.
async fn pickable_by_warehouse(
    state: &AppState,
    ctx: &RequestContext,
    orders: &[Order],
) -> Result<BTreeMap<WarehouseId, Vec<PickableOrder>>, ApiError> {
    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let allocations = state.store.order_allocations(ctx.tenant_id, &ids).await?;
    let mut by_warehouse: BTreeMap<WarehouseId, Vec<PickableOrder>> = BTreeMap::new();
    for order in orders {
        let mut lines: BTreeMap<WarehouseId, Vec<_>> = BTreeMap::new();
        for a in allocations.iter().filter(|a| a.order_id == order.id) {
            lines
                .entry(a.warehouse)
                .or_default()
                .push((a.line_no, a.sku.clone(), a.quantity));
        }
        for (warehouse, lines) in lines {
            by_warehouse
                .entry(warehouse)
                .or_default()
                .push(PickableOrder {
                    order_id: order.id,
                    ship_by: order.ship_by,
                    carrier: Some(order.service_level.as_str().to_owned()),
                    lines,
                });
        }
    }
    Ok(by_warehouse)
}

/// Plans pick lists from bin stock for the given orders (single or batch) or for a wave of a
/// warehouse's allocated orders; stores them with a pick task each and moves every order to
/// `picking`. Orders that are not allocated: 409 naming them, nothing written.
#[utoipa::path(
    tag = "warehouse",
    request_body = CreatePickListsRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = PickListCreated),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "some orders are not allocated", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/picklists")]
pub async fn create_pick_lists(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<CreatePickListsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut planned = Vec::new();
    match (body.order_ids, body.wave) {
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > 500 {
                return Err(ValidationErrors::single("order_ids", "1 to 500 order ids").into());
            }
            let max = max_orders(body.max_orders)?;
            let mut orders = Vec::with_capacity(ids.len());
            let mut seen = std::collections::HashSet::new();
            for id in ids.into_iter().filter(|id| seen.insert(*id)) {
                orders.push(state.orders.get(&ctx, OrderId::from_uuid(id)).await?);
            }
            let refused: Vec<&Order> = orders.iter().filter(|o| !pickable(o)).collect();
            if !refused.is_empty() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "orders-not-allocated",
                    "Some orders are not allocated",
                    format!(
                        "only allocated orders can be picked; nothing was written. Not allocated: {}",
                        refused
                            .iter()
                            .map(|o| format!("{} ({})", o.id, o.status.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with(
                    "order_ids",
                    json!(refused.iter().map(|o| o.id).collect::<Vec<_>>()),
                ));
            }
            for (warehouse, group) in pickable_by_warehouse(&state, &ctx, &orders).await? {
                planned.extend(state.picking.plan(&ctx, warehouse, &[group], max).await?);
            }
        }
        (None, Some(wave)) => {
            let max = max_orders(wave.max_orders.or(body.max_orders))?;
            let (warehouse, _) = warehouse_of(&state, &ctx, &wave.warehouse).await?;
            let filter = OrderFilter {
                statuses: vec![OrderStatus::Allocated, OrderStatus::PartiallyAllocated],
                ..Default::default()
            };
            let page = state
                .orders
                .list(
                    &ctx,
                    &filter,
                    OrderSort::ShipBy,
                    PageRequest::new(None, Some(200)),
                )
                .await?;
            let mut by_warehouse = pickable_by_warehouse(&state, &ctx, &page.items).await?;
            let here = by_warehouse.remove(&warehouse).unwrap_or_default();
            let index: std::collections::HashMap<OrderId, &PickableOrder> =
                here.iter().map(|o| (o.order_id, o)).collect();
            let groups: Vec<Vec<PickableOrder>> = group_waves(&here, max)
                .into_iter()
                .map(|w| {
                    w.orders
                        .iter()
                        .filter_map(|id| index.get(id).map(|o| (*o).clone()))
                        .collect()
                })
                .collect();
            if !groups.is_empty() {
                planned.extend(state.picking.plan(&ctx, warehouse, &groups, max).await?);
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "send either `order_ids` or `wave`: {\"order_ids\": [...]} or \
                 {\"wave\": {\"warehouse\": \"MAIN\", \"max_orders\": 50}}",
            ));
        }
    }
    for p in &planned {
        for order in p.list.orders() {
            state.orders.start_picking(&ctx, *order).await?;
        }
    }
    Ok(HttpResponse::Created().json(PickListCreated {
        task_ids: planned.iter().map(|p| p.task.id).collect(),
        items: planned.iter().map(|p| list_response(&p.list)).collect(),
    }))
}

async fn stored_list(
    state: &AppState,
    ctx: &RequestContext,
    raw: &str,
) -> Result<PickList, ApiError> {
    let id = path_uuid(raw, "pick list")?;
    state
        .store
        .pick_list(ctx.tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("pick list {raw} not found")))
}

/// A pick list: lines in walk order, progress and the line to walk to now.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = PickListResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/warehouse/picklists/{id}")]
pub async fn get_pick_list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let list = stored_list(&state, &ctx, &id).await?;
    Ok(HttpResponse::Ok().json(list_response(&list)))
}

/// Confirms a pick by scan (bin label, then item barcode and count); the units leave the bin.
/// The same `scan_id` again answers the same and applies nothing; a wrong bin, wrong item or
/// too many answers a problem and changes nothing.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    request_body = PickScanRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = PickScanResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the list is complete", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "wrong-bin, wrong-item or too-many", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/picklists/{id}/scan")]
pub async fn scan_pick(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<PickScanRequest>,
) -> Result<HttpResponse, ApiError> {
    let list_id = path_uuid(&id, "pick list")?;
    let body = body.into_inner();
    let outcome = state
        .picking
        .confirm_scan(
            &ctx,
            list_id,
            Scan {
                scan_id: body.scan_id,
                bin: body.bin,
                barcode: body.barcode,
                quantity: body.quantity,
            },
        )
        .await?;
    let response = match outcome {
        ScanOutcome::Next { line } => PickScanResponse {
            outcome: "next".into(),
            next_line: Some(line_response(&line)),
        },
        ScanOutcome::Complete => PickScanResponse {
            outcome: "complete".into(),
            next_line: None,
        },
    };
    Ok(HttpResponse::Ok().json(response))
}

/// Reports a short pick: the missing units leave the bin and the order lines shipping last
/// lose them (written off the warehouse's on hand, the lines backordered); stock elsewhere
/// is then re-allocated to them.
#[utoipa::path(
    tag = "warehouse",
    params(("id" = uuid::Uuid, Path)),
    request_body = ShortRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ShortResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouse/picklists/{id}/short")]
pub async fn report_short(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
    body: web::Json<ShortRequest>,
) -> Result<HttpResponse, ApiError> {
    let list_id = path_uuid(&id, "pick list")?;
    let found =
        Quantity::new(body.found).map_err(|_| ValidationErrors::single("found", "0 or more"))?;
    let shortage = state
        .picking
        .report_short(&ctx, list_id, body.seq, found)
        .await?;
    let reason = format!("short pick in bin {}", shortage.bin.code);
    for a in &shortage.affected {
        state
            .orders
            .short_pick(
                &ctx,
                a.order_id,
                shortage.bin.warehouse,
                a.line_no,
                a.quantity,
                reason.clone(),
            )
            .await?;
    }
    state
        .orders
        .fill_backorders(&ctx, std::slice::from_ref(&shortage.sku))
        .await?;
    let mut affected = Vec::with_capacity(shortage.affected.len());
    for a in &shortage.affected {
        let order = state.orders.get(&ctx, a.order_id).await?;
        let backordered = order
            .lines
            .iter()
            .find(|l| l.line_no == a.line_no)
            .map_or(0, |l| l.backordered().get());
        affected.push(ShortOrderResponse {
            order_id: a.order_id.into_uuid(),
            line_no: a.line_no,
            quantity: units(a.quantity),
            order_status: order.status.as_str().to_owned(),
            backordered,
        });
    }
    let list = stored_list(&state, &ctx, &id).await?;
    Ok(HttpResponse::Ok().json(ShortResponse {
        sku: shortage.sku.to_string(),
        bin: shortage.bin.code.to_string(),
        missing: units(shortage.missing),
        affected,
        pick_list: list_response(&list),
    }))
}
