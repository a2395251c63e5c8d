//! Customer notifications: the tenant's templates (or the defaults) and the log of what was sent.

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::routes::{encode_cursor, page_request};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, Utc};
use notification::{LogEntry, TemplateView, sample_variables};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateResponse {
    /// `order_confirmed`, `order_shipped`, `order_delivered` or `return_received`.
    pub kind: String,
    /// Jinja, one line once rendered.
    pub subject: String,
    /// Jinja, plain text.
    pub body: String,
    /// True: your own template; false: Tote's default.
    pub customised: bool,
    /// The variables the template may use, with example values.
    #[schema(value_type = Object)]
    pub variables: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTemplateRequest {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub kind: String,
    pub order_id: Option<uuid::Uuid>,
    /// The address it went to; null when skipped or after the customer was erased.
    pub recipient: Option<String>,
    /// `sent`, `skipped` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only this order's messages.
    pub order_id: Option<uuid::Uuid>,
    /// 1 to 200; default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn template(v: TemplateView) -> TemplateResponse {
    TemplateResponse {
        kind: v.template.kind.as_str().to_owned(),
        variables: sample_variables(v.template.kind),
        subject: v.template.subject,
        body: v.template.body,
        customised: v.customised,
    }
}

impl From<LogEntry> for NotificationResponse {
    fn from(e: LogEntry) -> Self {
        Self {
            id: e.id,
            event_id: e.event_id,
            kind: e.kind.as_str().to_owned(),
            order_id: e.order_id,
            recipient: e.recipient,
            status: e.status.as_str().to_owned(),
            error: e.error,
            created_at: e.created_at,
        }
    }
}

/// Every message kind with the template in use: yours, or the default.
#[utoipa::path(tag = "notifications", security(("api_key" = [])),
    responses((status = 200, body = TemplateList)))]
#[get("/notification-templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
) -> Result<HttpResponse, ApiError> {
    let views = state.notifications.templates(ctx.tenant_id).await?;
    Ok(HttpResponse::Ok().json(TemplateList {
        items: views.into_iter().map(template).collect(),
    }))
}

/// Sets your template of one kind. It must parse and use only the kind's variables.
#[utoipa::path(tag = "notifications", params(("kind" = String, Path)), security(("api_key" = [])),
    request_body = PutTemplateRequest,
    responses((status = 200, body = TemplateResponse),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/notification-templates/{kind}")]
pub async fn put_template(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    kind: web::Path<String>,
    body: web::Json<PutTemplateRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .notifications
        .save_template(ctx.tenant_id, &kind, &body.subject, &body.body)
        .await?;
    Ok(HttpResponse::Ok().json(template(view)))
}

/// Drops your template of one kind: the default applies again.
#[utoipa::path(tag = "notifications", params(("kind" = String, Path)), security(("api_key" = [])),
    responses((status = 200, body = TemplateResponse),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[delete("/notification-templates/{kind}")]
pub async fn delete_template(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    kind: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .notifications
        .reset_template(ctx.tenant_id, &kind)
        .await?;
    Ok(HttpResponse::Ok().json(template(view)))
}

/// What was sent to customers (or skipped, or refused), newest first.
#[utoipa::path(tag = "notifications", params(NotificationQuery), security(("api_key" = [])),
    responses((status = 200, body = NotificationPage),
        (status = 400, body = Problem, content_type = "application/problem+json")))]
#[get("/notifications")]
pub async fn log(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = page_request(q.limit, q.cursor.as_deref(), |s| {
        uuid::Uuid::parse_str(s).ok()
    })?;
    let found = state
        .notifications
        .log(ctx.tenant_id, q.order_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(NotificationPage {
        next_cursor: found.next_cursor.map(|c| encode_cursor(&c.to_string())),
        items: found.items.into_iter().map(Into::into).collect(),
    }))
}
