use super::{MoneyDto, PageQuery, encode_cursor, sku_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use inventory::product::ProductPatch;
use inventory::{NewProduct, Product};
use kernel::Sku;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionsDto {
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProductRequest {
    /// Unique within your account: letters, digits, `-_./`, up to 64 characters.
    pub sku: String,
    pub name: String,
    /// GTIN-8, UPC-A, EAN-13 or GTIN-14, check digit verified.
    pub barcode: Option<String>,
    pub weight_grams: Option<i64>,
    pub dimensions: Option<DimensionsDto>,
    pub unit_cost: Option<MoneyDto>,
    /// Harmonized System code for customs, 6 to 10 digits.
    pub hs_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country_of_origin: Option<String>,
    /// Makes this a kit (bundle): no stock of its own, made of these components.
    #[serde(default)]
    pub components: Vec<ComponentDto>,
    /// `inventory.low_stock` is raised when total available falls to this or below.
    pub low_stock_threshold: Option<i64>,
    /// Supplier lead time in days, for reorder points.
    pub lead_time_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentDto {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductResponse {
    pub id: uuid::Uuid,
    pub sku: String,
    pub name: String,
    pub barcode: Option<String>,
    pub weight_grams: Option<u32>,
    pub dimensions: Option<DimensionsDto>,
    pub unit_cost: Option<MoneyDto>,
    pub hs_code: Option<String>,
    pub country_of_origin: Option<String>,
    /// False once archived: kept in history, no longer orderable.
    pub active: bool,
    pub components: Vec<ComponentDto>,
    pub low_stock_threshold: Option<i64>,
    pub lead_time_days: Option<i64>,
    /// Weighted average cost of stock on hand, moved by receipts.
    pub average_cost: Option<MoneyDto>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<Product> for ProductResponse {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.into_uuid(),
            sku: p.sku.to_string(),
            name: p.name,
            barcode: p.barcode,
            weight_grams: p.weight_grams,
            dimensions: p.dimensions.map(|d| DimensionsDto {
                length_mm: d.length_mm.into(),
                width_mm: d.width_mm.into(),
                height_mm: d.height_mm.into(),
            }),
            unit_cost: p.unit_cost.map(Into::into),
            hs_code: p.hs_code,
            country_of_origin: p.country_of_origin,
            active: p.active,
            components: p
                .components
                .iter()
                .map(|c| ComponentDto {
                    sku: c.sku.to_string(),
                    quantity: c.quantity.as_i64(),
                })
                .collect(),
            low_stock_threshold: p.low_stock_threshold,
            lead_time_days: p.lead_time_days,
            average_cost: p.average_cost.map(Into::into),
            version: p.version,
            created_at: p.created_at,
        }
    }
}

impl From<CreateProductRequest> for NewProduct {
    fn from(r: CreateProductRequest) -> Self {
        NewProduct {
            sku: r.sku,
            name: r.name,
            barcode: r.barcode,
            weight_grams: r.weight_grams,
            dimensions: r.dimensions.map(|d| (d.length_mm, d.width_mm, d.height_mm)),
            unit_cost: r.unit_cost.map(|m| (m.amount_minor, m.currency)),
            hs_code: r.hs_code,
            country_of_origin: r.country_of_origin,
            components: r
                .components
                .into_iter()
                .map(|c| (c.sku, c.quantity))
                .collect(),
            low_stock_threshold: r.low_stock_threshold,
            lead_time_days: r.lead_time_days,
        }
    }
}

/// A SKU from a path segment; one that cannot be valid cannot exist.
pub fn path_sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|_| ApiError::not_found(format!("no product with SKU {raw:?}")))
}

/// Adds a product to your catalogue, with zero stock.
#[utoipa::path(
    tag = "catalogue",
    request_body = CreateProductRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = ProductResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "SKU exists", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/products")]
pub async fn create(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<CreateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    crate::quota::admit_sku(&state, ctx.tenant_id).await?;
    let product = state
        .inventory
        .register_product(&ctx, body.into_inner().into())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/products/{}", product.sku),
        ))
        .json(ProductResponse::from(product)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProductQuery {
    /// 1 to 200; default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// A SKU or barcode (exact), or part of the name (any case).
    pub search: Option<String>,
    /// Include archived products (default false).
    pub include_archived: Option<bool>,
}

/// Your products, by SKU; `search` finds by SKU, barcode or name.
#[utoipa::path(
    tag = "catalogue",
    params(ProductQuery),
    security(("api_key" = [])),
    responses((status = 200, body = ProductPage))
)]
#[get("/products")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<ProductQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = sku_page(&PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    })?;
    let filter = inventory::ports::ProductFilter {
        search: query.search.clone(),
        include_archived: query.include_archived.unwrap_or(false),
    };
    let page = state.inventory.products(&ctx, &filter, page).await?;
    Ok(HttpResponse::Ok().json(ProductPage {
        next_cursor: page.next_cursor.map(|s| encode_cursor(s.as_str())),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// One product.
#[utoipa::path(
    tag = "catalogue",
    params(("sku" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ProductResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/products/{sku}")]
pub async fn get(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    sku: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&sku)?;
    let product = state.inventory.product(&ctx, &sku).await?;
    Ok(with_etag(product))
}

fn with_etag(product: Product) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", product.version)))
        .json(ProductResponse::from(product))
}

/// `Some(None)` for an explicit `null` (clear the field), `None` when the field is absent.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A partial update: absent fields stay, `null` clears an optional one. SKU and kit
/// components never change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub barcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub weight_grams: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub dimensions: Option<Option<DimensionsDto>>,
    #[serde(default, deserialize_with = "double_option")]
    pub unit_cost: Option<Option<MoneyDto>>,
    #[serde(default, deserialize_with = "double_option")]
    pub hs_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub country_of_origin: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub low_stock_threshold: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub lead_time_days: Option<Option<i64>>,
    /// `false` archives the product, `true` restores it.
    pub active: Option<bool>,
}

/// Changes a product. Honours `If-Match` (its version): 409 if it changed meanwhile.
#[utoipa::path(
    tag = "catalogue",
    params(("sku" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateProductRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, body = ProductResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version mismatch", body = Problem, content_type = "application/problem+json")
    )
)]
#[patch("/products/{sku}")]
pub async fn update(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    sku: web::Path<String>,
    body: web::Json<UpdateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&sku)?;
    let expected = super::inventory::expected_version(&req)?;
    let b = body.into_inner();
    let patch = ProductPatch {
        name: b.name,
        barcode: b.barcode,
        weight_grams: b.weight_grams,
        dimensions: b
            .dimensions
            .map(|d| d.map(|d| (d.length_mm, d.width_mm, d.height_mm))),
        unit_cost: b.unit_cost.map(|m| m.map(|m| (m.amount_minor, m.currency))),
        hs_code: b.hs_code,
        country_of_origin: b.country_of_origin,
        low_stock_threshold: b.low_stock_threshold,
        lead_time_days: b.lead_time_days,
        active: b.active,
    };
    let product = state
        .inventory
        .update_product(&ctx, &sku, patch, expected)
        .await?;
    Ok(with_etag(product))
}

/// Archives a product: it stays in history and reports but can no longer be ordered or held.
/// Restore it with `PATCH {"active": true}`.
#[utoipa::path(
    tag = "catalogue",
    params(("sku" = String, Path), ("If-Match" = Option<String>, Header)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ProductResponse),
        (status = 404, body = Problem, content_type = "application/problem+json")
    )
)]
#[delete("/products/{sku}")]
pub async fn archive(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    sku: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sku = path_sku(&sku)?;
    let expected = super::inventory::expected_version(&req)?;
    let product = state
        .inventory
        .set_product_active(&ctx, &sku, false, expected)
        .await?;
    Ok(with_etag(product))
}
