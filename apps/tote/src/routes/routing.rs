//! The tenant's allocation rules: which warehouses orders are tried in, each one's cut-off,
//! whether one warehouse is preferred and whether an order may be split.

use super::warehouses::WarehouseResponse;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{HttpResponse, get, put, web};
use inventory::Warehouse;
use inventory::allocation::AllocationRules;
use inventory::routing::{RoutingChange, WarehouseRoute};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseRouteRequest {
    pub code: String,
    /// `HH:MM` UTC; unchanged if left out.
    pub cutoff: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRulesRequest {
    /// Try one warehouse that can ship the whole order before splitting (default true).
    pub prefer_single_warehouse: Option<bool>,
    /// Let one order ship from several warehouses (default true). Without it, the warehouse
    /// that can give the most ships and the rest is backordered.
    pub allow_split: Option<bool>,
    /// Warehouses in the order they are tried, first choice first. Unlisted ones keep their
    /// order after these.
    pub warehouses: Option<Vec<WarehouseRouteRequest>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationRulesResponse {
    pub prefer_single_warehouse: bool,
    pub allow_split: bool,
    /// First choice first.
    pub warehouses: Vec<WarehouseResponse>,
}

fn reply((rules, warehouses): (AllocationRules, Vec<Warehouse>)) -> HttpResponse {
    HttpResponse::Ok().json(AllocationRulesResponse {
        prefer_single_warehouse: rules.prefer_single_warehouse,
        allow_split: rules.allow_split,
        warehouses: warehouses.into_iter().map(Into::into).collect(),
    })
}

/// How orders are routed to warehouses.
#[utoipa::path(
    tag = "orders",
    security(("api_key" = [])),
    responses((status = 200, body = AllocationRulesResponse))
)]
#[get("/allocation-rules")]
pub async fn get(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    Ok(reply(state.inventory.routing(&ctx).await?))
}

/// Changes how orders are routed. Applies to orders placed (and backorders filled) from now
/// on; checked whole, nothing changes if any part is wrong.
#[utoipa::path(
    tag = "orders",
    request_body = AllocationRulesRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = AllocationRulesResponse),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[put("/allocation-rules")]
pub async fn put(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<AllocationRulesRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let change = RoutingChange {
        prefer_single_warehouse: body.prefer_single_warehouse,
        allow_split: body.allow_split,
        warehouses: body.warehouses.map(|ws| {
            ws.into_iter()
                .map(|w| WarehouseRoute {
                    code: w.code,
                    cutoff: w.cutoff,
                })
                .collect()
        }),
    };
    Ok(reply(state.inventory.set_routing(&ctx, change).await?))
}
