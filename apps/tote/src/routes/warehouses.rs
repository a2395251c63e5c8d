//! Warehouses (stock locations) and checkout reservation holds.

use super::orders::AddressDto;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use inventory::hold::{Hold, NewHold};
use inventory::{NewWarehouse, Warehouse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWarehouseRequest {
    /// 1–20 of `A-Z 0-9 - _`, unique in your account (upper-cased).
    pub code: String,
    pub name: String,
    pub address: Option<AddressDto>,
    /// Orders are allocated from lower numbers first; default 100 (the default warehouse is 0).
    pub priority: Option<i32>,
    /// Daily cut-off `HH:MM` (UTC), default `15:00`: orders routed here after it leave the
    /// next working day.
    pub cutoff: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWarehouseRequest {
    pub name: Option<String>,
    /// Where its parcels ship from: the ship-from of labels bought for it.
    pub address: Option<AddressDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseResponse {
    pub id: uuid::Uuid,
    pub code: String,
    pub name: String,
    pub address: Option<AddressDto>,
    pub priority: i32,
    pub is_default: bool,
    /// `HH:MM` UTC.
    pub cutoff: String,
    pub created_at: DateTime<Utc>,
}

impl From<Warehouse> for WarehouseResponse {
    fn from(w: Warehouse) -> Self {
        Self {
            id: w.id.into_uuid(),
            code: w.code,
            name: w.name,
            address: w.address.map(Into::into),
            priority: w.priority,
            is_default: w.is_default,
            cutoff: inventory::warehouse::format_cutoff(w.cutoff_minute),
            created_at: w.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseList {
    pub items: Vec<WarehouseResponse>,
}

/// Renames a warehouse or sets its address (e.g. `MAIN`'s, which sign-up leaves empty). Its
/// priority and cut-off change with `PUT /api/v1/allocation-rules`.
#[utoipa::path(
    tag = "inventory",
    params(("code" = String, Path)),
    request_body = UpdateWarehouseRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = WarehouseResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[patch("/warehouses/{code}")]
pub async fn update(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    code: web::Path<String>,
    body: web::Json<UpdateWarehouseRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let warehouse = state
        .inventory
        .update_warehouse(&ctx, &code, body.name, body.address.map(Into::into))
        .await
        .map_err(|e| match e {
            inventory::InventoryError::UnknownWarehouse(code) => {
                ApiError::not_found(format!("warehouse {code} not found"))
            }
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(WarehouseResponse::from(warehouse)))
}

/// Opens a warehouse. Stock is then set or received per warehouse by its code.
#[utoipa::path(
    tag = "inventory",
    request_body = CreateWarehouseRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = WarehouseResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "code exists", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/warehouses")]
pub async fn create(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<CreateWarehouseRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let warehouse = state
        .inventory
        .open_warehouse(
            &ctx,
            NewWarehouse {
                code: body.code,
                name: body.name,
                address: body.address.map(Into::into),
                priority: body.priority,
                cutoff: body.cutoff,
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/warehouses/{}", warehouse.code),
        ))
        .json(WarehouseResponse::from(warehouse)))
}

/// Your warehouses, in allocation order.
#[utoipa::path(
    tag = "inventory",
    security(("api_key" = [])),
    responses((status = 200, body = WarehouseList))
)]
#[get("/warehouses")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let items = state.inventory.warehouses(&ctx).await?;
    Ok(HttpResponse::Ok().json(WarehouseList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldLineRequest {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHoldRequest {
    pub lines: Vec<HoldLineRequest>,
    /// 30 to 3600 seconds; default 900 (15 minutes).
    pub ttl_seconds: Option<i64>,
    /// Your own reference, e.g. the cart id.
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldLineResponse {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldResponse {
    pub id: uuid::Uuid,
    /// active, confirmed, released or expired.
    pub status: String,
    pub lines: Vec<HoldLineResponse>,
    pub reference: Option<String>,
    /// The order that took it over (`order:<id>`), once confirmed.
    pub order: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<Hold> for HoldResponse {
    fn from(h: Hold) -> Self {
        Self {
            id: h.id.into_uuid(),
            status: h.status.as_str().to_owned(),
            lines: h
                .lines
                .iter()
                .map(|l| HoldLineResponse {
                    sku: l.sku.to_string(),
                    quantity: l.quantity.get(),
                })
                .collect(),
            reference: h.reference,
            order: h.order_ref,
            expires_at: h.expires_at,
            created_at: h.created_at,
        }
    }
}

fn path_hold(raw: &str) -> Result<kernel::HoldId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("no reservation hold {raw:?}")))
}

/// Holds stock for a checkout: every line in full or 409 and nothing held. Place the order
/// with `"reservation_id"` to confirm it; unconfirmed holds are released when they expire.
#[utoipa::path(
    tag = "inventory",
    request_body = CreateHoldRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = HoldResponse),
        (status = 409, description = "not available", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/reservations")]
pub async fn create_hold(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<CreateHoldRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let placed = state
        .inventory
        .place_hold(
            &ctx,
            NewHold {
                lines: body
                    .lines
                    .into_iter()
                    .map(|l| (l.sku, l.quantity))
                    .collect(),
                ttl_seconds: body.ttl_seconds,
                reference: body.reference,
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/reservations/{}", placed.id),
        ))
        .json(HoldResponse::from(placed)))
}

#[utoipa::path(
    tag = "inventory",
    params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = HoldResponse), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[get("/reservations/{id}")]
pub async fn get_hold(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = state.inventory.hold(&ctx, path_hold(&id)?).await?;
    Ok(HttpResponse::Ok().json(HoldResponse::from(found)))
}

/// Releases a hold now (the shopper left).
#[utoipa::path(
    tag = "inventory",
    params(("id" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = HoldResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not active", body = Problem, content_type = "application/problem+json")
    )
)]
#[delete("/reservations/{id}")]
pub async fn release_hold(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let released = state.inventory.release_hold(&ctx, path_hold(&id)?).await?;
    Ok(HttpResponse::Ok().json(HoldResponse::from(released)))
}
