//! The operator API (`TOTE_ADMIN_TOKEN`): the outbox backlog and consumers' dead letters.

use crate::auth::Operator;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxStatus {
    /// Events not yet confirmed by the broker (or in-process consumers).
    pub pending: u64,
    /// Age of the oldest pending event; absent when nothing is pending.
    pub oldest_pending_age_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterItem {
    /// `in_process` (dead-letter table) or `rabbitmq` (the consumer's DLQ).
    pub source: &'static str,
    pub consumer: String,
    pub event_id: Option<uuid::Uuid>,
    pub event_type: Option<String>,
    pub tenant_id: Option<uuid::Uuid>,
    pub error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub items: Vec<DeadLetterItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResult {
    pub replayed: usize,
    /// In-process dead letters whose consumer failed again: still listed.
    pub still_failing: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    /// Only this consumer's dead letters.
    pub consumer: Option<String>,
}

const LIST_MAX: usize = 200;

/// How far behind event publishing is.
#[utoipa::path(tag = "operations", security(("admin_token" = [])), responses((status = 200, body = OutboxStatus)))]
#[get("/admin/outbox")]
pub async fn outbox(state: web::Data<AppState>, _: Operator) -> Result<HttpResponse, ApiError> {
    let (pending, oldest) = state.store.outbox_backlog().await?;
    Ok(HttpResponse::Ok().json(OutboxStatus {
        pending,
        oldest_pending_age_seconds: oldest,
    }))
}

/// Events consumers gave up on, from the dead-letter table and (with RabbitMQ) each DLQ.
#[utoipa::path(tag = "operations", params(DeadLetterQuery), security(("admin_token" = [])), responses((status = 200, body = DeadLetterList)))]
#[get("/admin/dead-letters")]
pub async fn dead_letters(
    state: web::Data<AppState>,
    _: Operator,
    query: web::Query<DeadLetterQuery>,
) -> Result<HttpResponse, ApiError> {
    let consumer = query.consumer.as_deref();
    let mut items: Vec<DeadLetterItem> = state
        .store
        .dead_letters(consumer, LIST_MAX as u64)
        .await?
        .into_iter()
        .map(|d| DeadLetterItem {
            source: "in_process",
            consumer: d.consumer,
            event_id: Some(d.event.id.into_uuid()),
            event_type: Some(d.event.event_type),
            tenant_id: Some(d.event.tenant_id.into_uuid()),
            error: Some(d.error),
            failed_at: Some(d.failed_at),
        })
        .collect();
    if let Some(url) = &state.amqp_url {
        for handler in state
            .consumers
            .iter()
            .filter(|h| consumer.is_none_or(|c| c == h.name()))
        {
            let messages = rabbitmq::dead_letters::peek(url.expose(), handler.name(), LIST_MAX)
                .await
                .map_err(|e| ApiError::internal(format!("RabbitMQ: {e}")))?;
            items.extend(messages.into_iter().map(|m| match m {
                rabbitmq::dead_letters::DeadMessage::Event(e) => DeadLetterItem {
                    source: "rabbitmq",
                    consumer: handler.name().to_owned(),
                    event_id: Some(e.id.into_uuid()),
                    event_type: Some(e.event_type),
                    tenant_id: Some(e.tenant_id.into_uuid()),
                    error: None,
                    failed_at: None,
                },
                rabbitmq::dead_letters::DeadMessage::Unreadable(raw) => DeadLetterItem {
                    source: "rabbitmq",
                    consumer: handler.name().to_owned(),
                    event_id: None,
                    event_type: None,
                    tenant_id: None,
                    error: Some(format!(
                        "unreadable message: {}",
                        raw.chars().take(200).collect::<String>()
                    )),
                    failed_at: None,
                },
            }));
        }
    }
    Ok(HttpResponse::Ok().json(DeadLetterList { items }))
}

/// Tries a consumer's dead letters again: in-process ones run through the consumer now;
/// RabbitMQ ones go back onto the consumer's queue.
#[utoipa::path(
    tag = "operations",
    params(("consumer" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = ReplayResult), (status = 404, description = "no such consumer"))
)]
#[post("/admin/dead-letters/{consumer}/replay")]
pub async fn replay(
    state: web::Data<AppState>,
    _: Operator,
    consumer: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let handler = state
        .consumers
        .iter()
        .find(|h| h.name() == consumer.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no consumer named {consumer:?}")))?;
    let mut result = ReplayResult {
        replayed: 0,
        still_failing: 0,
    };
    for dead in state
        .store
        .dead_letters(Some(handler.name()), LIST_MAX as u64)
        .await?
    {
        match handler.handle(&dead.event).await {
            Ok(()) => {
                state.store.delete_dead_letter(dead.id).await?;
                result.replayed += 1;
            }
            Err(_) => result.still_failing += 1,
        }
    }
    if let Some(url) = &state.amqp_url {
        result.replayed += rabbitmq::dead_letters::replay(url.expose(), handler.name())
            .await
            .map_err(|e| ApiError::internal(format!("RabbitMQ: {e}")))?;
    }
    Ok(HttpResponse::Ok().json(result))
}

/// A tenant's plan limits; absent or null means unlimited.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub orders_per_day: Option<i64>,
    pub max_skus: Option<i64>,
}

/// Sets a tenant's plan limits (takes effect within a minute on every API process).
#[utoipa::path(
    tag = "operations",
    params(("id" = uuid::Uuid, Path)),
    request_body = PlanRequest,
    security(("admin_token" = [])),
    responses((status = 200, body = PlanRequest), (status = 400, description = "negative limit"))
)]
#[put("/admin/tenants/{id}/plan")]
pub async fn set_plan(
    state: web::Data<AppState>,
    _: Operator,
    id: web::Path<String>,
    body: web::Json<PlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let tenant = uuid::Uuid::parse_str(&id)
        .map(kernel::TenantId::from_uuid)
        .map_err(|_| ApiError::not_found(format!("tenant {id} not found")))?;
    let plan = identity::Plan {
        orders_per_day: body.orders_per_day,
        max_skus: body.max_skus,
    };
    if plan.orders_per_day.is_some_and(|n| n < 0) || plan.max_skus.is_some_and(|n| n < 0) {
        return Err(ApiError::bad_request(
            "limits are 0 or more, or null for unlimited",
        ));
    }
    state.store.set_plan(tenant, plan).await?;
    state.limits.plans.forget(tenant);
    Ok(HttpResponse::Ok().json(body.into_inner()))
}
