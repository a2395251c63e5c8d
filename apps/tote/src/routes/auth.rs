//! Login, token refresh, logout, "who am I", and TOTP enrolment.

use crate::auth::{AuditActor, Who};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use identity::account::{SecondFactor, Tokens};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
    /// The 6-digit code of your authenticator app, once TOTP is on.
    #[serde(default)]
    pub totp_code: Option<String>,
    /// Instead of `totp_code`: one of your recovery codes (each works once).
    #[serde(default)]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// EdDSA JWT; send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Opaque; trade it at POST /api/v1/auth/refresh. Each works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives (900).
    pub expires_in: i64,
}

impl From<Tokens> for TokenResponse {
    fn from(t: Tokens) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token.expose().to_owned(),
            token_type: "Bearer",
            expires_in: t.expires_in,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// Logs a user in. 5 attempts a minute per IP address and per account, then 429.
#[utoipa::path(
    tag = "account",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong email or password, or a second factor is needed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let limited = |retry| ApiError::too_many_requests("too many login attempts", retry);
    state
        .limits
        .login_per_ip
        .hit(&client_ip(&req))
        .map_err(limited)?;
    state
        .limits
        .login_per_account
        .hit(&body.email.trim().to_ascii_lowercase())
        .map_err(limited)?;
    let result = state
        .accounts
        .login(
            &body.email,
            &body.password,
            SecondFactor {
                totp_code: body.totp_code,
                recovery_code: body.recovery_code,
            },
        )
        .await;
    let tokens = match result {
        Ok(tokens) => tokens,
        Err(e) => {
            // A failed login on a known account goes into that tenant's audit log.
            if let Ok(Some(tenant_id)) = state.accounts.tenant_of(&body.email).await {
                req.extensions_mut().insert(AuditActor {
                    tenant_id,
                    actor: format!("ip:{}", client_ip(&req)),
                });
            }
            return Err(e.into());
        }
    };
    if let Ok(claims) = state.keys.verify(&tokens.access_token) {
        req.extensions_mut().insert(AuditActor {
            tenant_id: claims.tenant_id,
            actor: format!("user:{}", claims.user_id),
        });
    }
    Ok(HttpResponse::Ok().json(TokenResponse::from(tokens)))
}

/// Trades a refresh token for a new pair. A token works once: presenting a spent one ends the
/// whole session (someone copied it).
#[utoipa::path(
    tag = "account",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, content_type = "application/problem+json")
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = state.accounts.refresh(&body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(tokens)))
}

/// Ends the session: its refresh token and every access token of it stop working.
#[utoipa::path(tag = "account", request_body = RefreshRequest, responses((status = 204)))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.accounts.logout(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub tenant_id: uuid::Uuid,
    /// `user:<id>` or `api_key:<id>`.
    pub actor: String,
    /// Your role (a full-access API key acts as owner); absent for scoped keys.
    pub role: Option<String>,
    /// A scoped key's scopes.
    pub scopes: Option<Vec<String>>,
}

/// Who the credentials you sent belong to.
#[utoipa::path(tag = "account", security(("api_key" = [])), responses((status = 200, body = MeResponse)))]
#[get("/auth/me")]
pub async fn me(Who(who): Who) -> HttpResponse {
    let scopes = match &who.grant {
        identity::Grant::Scopes(Some(s)) => Some(s.iter().map(|s| s.to_string()).collect()),
        _ => None,
    };
    HttpResponse::Ok().json(MeResponse {
        tenant_id: who.ctx.tenant_id.into_uuid(),
        actor: who.ctx.actor.clone(),
        role: who.role().map(|r| r.to_string()),
        scopes,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 secret, for apps that cannot scan.
    pub secret: String,
    /// `otpauth://` URI: show it as a QR code.
    pub otpauth_uri: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Shown once: each logs you in once without your authenticator.
    pub recovery_codes: Vec<String>,
}

fn user_of(who: &crate::auth::Authenticated) -> Result<uuid::Uuid, ApiError> {
    who.user_id.ok_or_else(|| {
        ApiError::forbidden("TOTP belongs to a user: log in first, not with an API key")
    })
}

/// Starts TOTP enrolment (owners and admins).
#[utoipa::path(tag = "account", security(("api_key" = [])), responses((status = 200, body = TotpEnrolment)))]
#[post("/auth/totp/enrol")]
pub async fn totp_enrol(
    state: web::Data<AppState>,
    Who(who): Who,
) -> Result<HttpResponse, ApiError> {
    let (secret, otpauth_uri) = state
        .accounts
        .enrol_totp(who.ctx.tenant_id, user_of(&who)?)
        .await?;
    Ok(HttpResponse::Ok().json(TotpEnrolment {
        secret,
        otpauth_uri,
    }))
}

/// Turns TOTP on with a first code from the app; returns the recovery codes, once.
#[utoipa::path(tag = "account", request_body = TotpConfirm, security(("api_key" = [])), responses((status = 200, body = RecoveryCodes)))]
#[post("/auth/totp/confirm")]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    Who(who): Who,
    body: web::Json<TotpConfirm>,
) -> Result<HttpResponse, ApiError> {
    let recovery_codes = state
        .accounts
        .confirm_totp(who.ctx.tenant_id, user_of(&who)?, &body.code)
        .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes { recovery_codes }))
}
