use crate::auth::AuditActor;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, post, web};
use identity::NewTenant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Your company or store name.
    pub company: String,
    pub email: String,
    /// Optional: also creates the owner user (login = this email), 10 to 128 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub tenant_id: uuid::Uuid,
    pub company: String,
    /// Shown once: store it now. Send it as `Authorization: Bearer <api_key>`. Full access.
    pub api_key: String,
    /// The owner user, when a password was given: log in with the email and password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_user_id: Option<uuid::Uuid>,
}

/// Self-service start: creates your account and its first API key.
#[utoipa::path(
    tag = "account",
    request_body = SignupRequest,
    responses(
        (status = 201, body = SignupResponse),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
#[post("/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let signed = state
        .identity
        .sign_up(
            NewTenant {
                company: body.company,
                email: body.email,
            },
            body.password.as_deref(),
        )
        .await?;
    req.extensions_mut().insert(AuditActor {
        tenant_id: signed.tenant.id,
        actor: signed
            .owner
            .as_ref()
            .map_or("signup".to_owned(), |u| format!("user:{}", u.id)),
    });
    tracing::info!(tenant_id = %signed.tenant.id, "tenant signed up");
    Ok(HttpResponse::Created().json(SignupResponse {
        tenant_id: signed.tenant.id.into_uuid(),
        company: signed.tenant.company,
        api_key: signed.api_key.expose().to_owned(),
        owner_user_id: signed.owner.map(|u| u.id),
    }))
}
