//! The audit log (owners and admins), and GDPR: tenant export and customer erasure.

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::routes::{encode_cursor, page_request};
use crate::state::AppState;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use identity::audit::{AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `user:<id>` or `api_key:<id>`.
    pub actor: Option<String>,
    /// Actions starting with this, e.g. `POST /api/v1/orders`.
    pub action: Option<String>,
    /// RFC 3339; entries at or after.
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339; entries before.
    pub until: Option<DateTime<Utc>>,
    /// `true`: only refused or failed calls (status ≥ 400); `false`: only successful ones.
    pub failed: Option<bool>,
    /// 1 to 200; default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryResponse {
    pub id: uuid::Uuid,
    pub actor: String,
    /// Method and route, e.g. `POST /api/v1/orders/{id}/cancel`.
    pub action: String,
    /// The path called: names the target.
    pub target: Option<String>,
    pub request_id: String,
    /// HTTP status answered.
    pub outcome: u16,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryResponse>,
    pub next_cursor: Option<String>,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            actor: e.actor,
            action: e.action,
            target: e.target,
            request_id: e.request_id,
            outcome: e.outcome,
            occurred_at: e.occurred_at,
        }
    }
}

/// Every state-changing call on your account, newest first.
#[utoipa::path(tag = "account", params(AuditQuery), security(("api_key" = [])),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem, content_type = "application/problem+json")))]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = page_request(q.limit, q.cursor.as_deref(), |s| {
        uuid::Uuid::parse_str(s).ok()
    })?;
    let filter = AuditFilter {
        actor: q.actor,
        action_prefix: q.action,
        since: q.since,
        until: q.until,
        failed: q.failed,
    };
    let found = state.store.list_audit(ctx.tenant_id, &filter, page).await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        next_cursor: found.next_cursor.map(|c| encode_cursor(&c.to_string())),
        items: found.items.into_iter().map(Into::into).collect(),
    }))
}

const EXPORT_PAGE: u64 = 500;

/// Everything Tote holds about your account, as one JSON document, streamed: `{"tenant_id",
/// "exported_at", "users": [...], "api_keys": [...], "products": [...], ...}`. Secrets (password
/// and key hashes, TOTP and webhook secrets) are left out.
#[utoipa::path(tag = "account", security(("api_key" = [])), responses((status = 200, content_type = "application/json", description = "the export")))]
#[get("/tenant/export")]
pub async fn export(state: web::Data<AppState>, Caller(ctx): Caller) -> HttpResponse {
    let tenant = ctx.tenant_id;
    let head = format!(
        "{{\"tenant_id\":\"{tenant}\",\"exported_at\":{}",
        serde_json::json!(Utc::now())
    );
    // (section, offset, rows written in this section); None once done.
    let start = Some((0usize, 0u64, 0u64));
    let body = futures::stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(head)) })
        .chain(futures::stream::unfold(start, move |st| {
            let state = state.clone();
            async move {
                let (section, offset, written) = st?;
                let Some(name) = sql::EXPORT_SECTIONS.get(section) else {
                    return Some((Ok(Bytes::from_static(b"}")), None));
                };
                let rows = match state
                    .store
                    .export_page(tenant, name, offset, EXPORT_PAGE)
                    .await
                {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::error!(error = %e, "export failed mid-stream");
                        return Some((Err(ApiError::from(e).into()), None));
                    }
                };
                let mut chunk = String::new();
                if offset == 0 {
                    chunk.push_str(&format!(",\"{name}\":["));
                }
                for (i, row) in rows.iter().enumerate() {
                    if written + i as u64 > 0 {
                        chunk.push(',');
                    }
                    chunk.push_str(&row.to_string());
                }
                let n = rows.len() as u64;
                let next = if n < EXPORT_PAGE {
                    chunk.push(']');
                    (section + 1, 0, 0)
                } else {
                    (section, offset + n, written + n)
                };
                Some((Ok(Bytes::from(chunk)), Some(next)))
            }
        }));
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"tote-export.json\"",
        ))
        .streaming(body)
}

use futures::StreamExt;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The customer's email, as on their orders' ship-to.
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EraseResponse {
    /// Orders whose ship-to was anonymised (name, street, phone, email; country, lines and
    /// totals are kept).
    pub orders_anonymised: u64,
}

/// GDPR erasure: anonymises a customer's personal data on your orders.
#[utoipa::path(tag = "account", request_body = EraseRequest, security(("api_key" = [])),
    responses((status = 200, body = EraseResponse), (status = 400, body = Problem, content_type = "application/problem+json")))]
#[post("/customers/erase")]
pub async fn erase(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    body: web::Json<EraseRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = body.email.trim();
    if email.is_empty() || !email.contains('@') || email.len() > 254 {
        let mut errors = kernel::ValidationErrors::new();
        errors.add("email", "email must look like name@example.com");
        return Err(errors.into());
    }
    let n = state.store.erase_customer(ctx.tenant_id, email).await?;
    Ok(HttpResponse::Ok().json(EraseResponse {
        orders_anonymised: n,
    }))
}
