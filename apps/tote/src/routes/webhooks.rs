//! Seller webhooks: subscribe an endpoint to event types, see its deliveries, replay one.

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use integration::webhook::Subscription;
use serde::{Deserialize, Serialize};
use sql::Delivery;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// A public `https://` endpoint.
    pub url: String,
    /// Event types or patterns: `order.created`, `order.*`, `#` for all.
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: uuid::Uuid,
    pub url: String,
    pub events: Vec<String>,
    /// False once the endpoint failed too often in a row.
    pub active: bool,
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
    /// Only in the creation response: verify `Tote-Signature` with it. Store it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    /// `pending`, `succeeded` or `dead`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryResponse>,
}

fn response(s: Subscription, secret: Option<String>) -> WebhookResponse {
    WebhookResponse {
        id: s.id,
        url: s.url.as_str().to_owned(),
        events: s.events.iter().map(|e| e.as_str().to_owned()).collect(),
        active: s.active,
        consecutive_failures: s.consecutive_failures,
        created_at: s.created_at,
        secret,
    }
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

fn path_id(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("{what} {raw} not found")))
}

/// Subscribes an endpoint. Deliveries are signed: see the README's "Webhooks" section.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhookRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, body = WebhookResponse),
        (status = 400, description = "bad URL (private addresses are refused) or event types", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let sub = Subscription::new(
        ctx.tenant_id,
        &body.url,
        &body.events,
        state.webhook_allow_private,
        Utc::now(),
    )?;
    let secret = Subscription::new_secret();
    state.store.insert_subscription(&sub, &secret).await?;
    Ok(HttpResponse::Created().json(response(sub, Some(secret))))
}

/// Your webhook endpoints.
#[utoipa::path(tag = "webhooks", security(("api_key" = [])), responses((status = 200, body = WebhookList)))]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let items = state.store.subscriptions(ctx.tenant_id).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: items.into_iter().map(|s| response(s, None)).collect(),
    }))
}

/// Removes an endpoint and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "webhook")?;
    if state.store.delete_subscription(ctx.tenant_id, id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("webhook {id} not found")))
    }
}

/// The delivery log of an endpoint, newest first (at most 200).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = DeliveryList), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "webhook")?;
    let items = state
        .store
        .deliveries(ctx.tenant_id, id, 200)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("webhook {id} not found")))?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Sends a delivery again now (also a dead one), with a fresh set of retries.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path), ("delivery_id" = uuid::Uuid, Path)),
    security(("api_key" = [])),
    responses((status = 202), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let id = path_id(&id, "webhook")?;
    let delivery_id = path_id(&delivery_id, "delivery")?;
    if state
        .store
        .replay_delivery(ctx.tenant_id, id, delivery_id)
        .await?
    {
        Ok(HttpResponse::Accepted().finish())
    } else {
        Err(ApiError::not_found(format!(
            "delivery {delivery_id} not found"
        )))
    }
}
