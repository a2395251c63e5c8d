use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, post, web};
use identity::NewTenant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Your company or store name.
    pub company: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub tenant_id: uuid::Uuid,
    pub company: String,
    /// Shown once: store it now. Send it as `Authorization: Bearer <api_key>`.
    pub api_key: String,
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
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let signed = state
        .identity
        .sign_up(NewTenant {
            company: body.company,
            email: body.email,
        })
        .await?;
    tracing::info!(tenant_id = %signed.tenant.id, "tenant signed up");
    Ok(HttpResponse::Created().json(SignupResponse {
        tenant_id: signed.tenant.id.into_uuid(),
        company: signed.tenant.company,
        api_key: signed.api_key.expose().to_owned(),
    }))
}
