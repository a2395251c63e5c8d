use super::{MoneyDto, PageQuery, encode_cursor, sku_page};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
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

/// Your products, by SKU.
#[utoipa::path(
    tag = "catalogue",
    params(PageQuery),
    security(("api_key" = [])),
    responses((status = 200, body = ProductPage))
)]
#[get("/products")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = sku_page(&query)?;
    let page = state.inventory.products(&ctx, page).await?;
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
    Ok(HttpResponse::Ok().json(ProductResponse::from(product)))
}
