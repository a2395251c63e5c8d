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
fn correlation_id(req: &HttpRequest) -> Option<CorrelationId> {
    let raw = req.headers().get("x-correlation-id")?.to_str().ok()?;
    uuid::Uuid::parse_str(raw.trim()).ok().map(CorrelationId)
}
