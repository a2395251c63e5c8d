//! Authentication: `Authorization: Bearer <api key>` becomes a tenant-scoped `RequestContext`.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use kernel::{CorrelationId, RequestContext};

/// An authenticated caller. Taking it as a handler argument is what makes a route private.
pub struct Caller(pub RequestContext);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        let correlation = correlation_id(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState missing"))?;
            let token = token.ok_or_else(ApiError::unauthenticated)?;
            let principal = state.identity.authenticate(&token).await?;
            let mut ctx = RequestContext::new(
                principal.tenant_id,
                format!("api_key:{}", principal.api_key_id),
            );
            if let Some(id) = correlation {
                ctx.correlation_id = id;
            }
            Ok(Caller(ctx))
        })
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
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
        use actix_web::HttpMessage;
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
