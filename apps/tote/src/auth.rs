//! Authentication: `Authorization: Bearer <api key | access token>` becomes an
//! [`Authenticated`] caller (tenant, actor, grant). The access guard ([`crate::guard`])
//! authenticates and authorises before any handler runs; handlers take [`Caller`] (or [`Who`]).

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use identity::{Grant, Role};
use kernel::{CorrelationId, RequestContext, TenantId};
use uuid::Uuid;

/// Who is calling, as proven by their credentials.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub ctx: RequestContext,
    /// Set for users (access tokens); `None` for API keys.
    pub user_id: Option<Uuid>,
    pub grant: Grant,
}

impl Authenticated {
    /// The role to act with: a user's role; a full-access key acts as owner; a scoped key has
    /// no role (`None`).
    pub fn role(&self) -> Option<Role> {
        match &self.grant {
            Grant::Role(r) => Some(*r),
            Grant::Scopes(None) => Some(Role::Owner),
            Grant::Scopes(Some(_)) => None,
        }
    }
}

/// Checks the bearer credentials: an API key (`tote_sk_…`) or an access JWT.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let token = bearer(req).ok_or_else(ApiError::unauthenticated)?;
    let (tenant, actor, user_id, grant) = if token.starts_with("tote_sk_") {
        let p = state.identity.authenticate(&token).await?;
        (
            p.tenant_id,
            format!("api_key:{}", p.api_key_id),
            None,
            Grant::Scopes(p.scopes),
        )
    } else {
        let claims = state.keys.verify(&token).map_err(|e| {
            tracing::debug!(reason = %e, "access token refused");
            ApiError::unauthenticated()
        })?;
        if !state.accounts.session_active(claims.session_id).await? {
            return Err(ApiError::unauthenticated());
        }
        (
            claims.tenant_id,
            format!("user:{}", claims.user_id),
            Some(claims.user_id),
            Grant::Role(claims.role),
        )
    };
    let mut ctx = RequestContext::new(tenant, actor);
    if let Some(id) = correlation_id(req) {
        ctx.correlation_id = id;
    }
    Ok(Authenticated {
        ctx,
        user_id,
        grant,
    })
}

/// An authenticated caller's tenant context. Taking it as a handler argument is what makes a
/// route private; the access guard put it there after checking the matrix.
pub struct Caller(pub RequestContext);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(who(req).map(|w| Caller(w.ctx)))
    }
}

/// The whole [`Authenticated`] caller, for handlers that need the user or role.
pub struct Who(pub Authenticated);

impl FromRequest for Who {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(who(req).map(Who))
    }
}

fn who(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    req.extensions()
        .get::<Authenticated>()
        .cloned()
        .ok_or_else(ApiError::unauthenticated)
}

/// Set by public handlers (sign-up, login) so their audit entry names the tenant and actor.
#[derive(Debug, Clone)]
pub struct AuditActor {
    pub tenant_id: TenantId,
    pub actor: String,
}

pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// `X-Correlation-Id`, when a caller sends a UUID, ties its events to its own trace.
/// Else the request id, when it is a UUID: one id follows a request into its events.
fn correlation_id(req: &HttpRequest) -> Option<CorrelationId> {
    let explicit = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|raw| uuid::Uuid::parse_str(raw.trim()).ok());
    let from_request = || {
        let extensions = req.extensions();
        let id = extensions.get::<crate::request_id::RequestId>()?;
        uuid::Uuid::parse_str(&id.0).ok()
    };
    explicit.or_else(from_request).map(CorrelationId)
}

/// An operator, proven by `TOTE_ADMIN_TOKEN`. Without that setting the admin API is absent (404).
pub struct Operator;

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let expected = req
            .app_data::<web::Data<AppState>>()
            .and_then(|s| s.admin_token.clone());
        let result = match (expected, bearer(req)) {
            (None, _) => Err(ApiError::not_found(format!("no route for {}", req.path()))),
            (Some(token), Some(given)) if constant_time_eq(token.expose(), &given) => Ok(Operator),
            _ => Err(ApiError::unauthenticated()),
        };
        std::future::ready(result)
    }
}

/// Compares without returning early, so timing does not reveal how much of a token matched.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn tokens_match_only_when_identical() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(!constant_time_eq("", "a"));
    }
}
