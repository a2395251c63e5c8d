//! The access guard: one middleware in front of every route. It looks the matched route up in
//! the access matrix ([`crate::access`]), authenticates and authorises tenant routes, applies
//! the per-tenant rate limit and the handler timeout, and records every state-changing call in
//! the audit log, whatever its outcome.

use crate::access::{self, Access, Decision};
use crate::auth::{self, AuditActor, Authenticated};
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};
use identity::audit::AuditEntry;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let pattern = req.match_pattern();
    let method = req.method().clone();
    let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let action = format!("{method} {}", pattern.as_deref().unwrap_or("(no route)"));
    let decision = pattern
        .as_deref()
        .map(|p| access::decide(method.as_str(), p));

    let mut caller: Option<Authenticated> = None;
    let refusal = match decision {
        Some(Decision::Unlisted) => {
            tracing::error!(route = %action, "route has no row in the access matrix: denied");
            Some(ApiError::forbidden(
                "this route is not open to anyone yet (it has no access rule)",
            ))
        }
        Some(Decision::Rule(access @ (Access::Tenant { .. } | Access::AnyCaller))) => {
            match auth::authenticate(&state, req.request()).await {
                Err(e) => Some(e),
                Ok(who) => {
                    let allowed = match access {
                        Access::Tenant { roles, scope } => who.grant.allows(roles, scope),
                        _ => true,
                    };
                    let scope = match access {
                        Access::Tenant { scope, .. } => scope,
                        _ => None,
                    };
                    let refused = if !allowed {
                        Some(forbidden(&who, &action, scope))
                    } else if let Err(retry) =
                        state.limits.per_tenant.hit(&who.ctx.tenant_id.to_string())
                    {
                        Some(ApiError::too_many_requests(
                            "your account's request rate limit was reached",
                            retry,
                        ))
                    } else {
                        None
                    };
                    req.extensions_mut().insert(who.clone());
                    caller = Some(who);
                    refused
                }
            }
        }
        _ => None,
    };

    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let target = req.path().to_owned();
    let peer = req.peer_addr().map(|a| a.ip().to_string());

    let response = match refusal {
        Some(err) => {
            let response = err.error_response();
            req.into_response(response).map_into_right_body()
        }
        None => match tokio::time::timeout(state.request_timeout, next.call(req)).await {
            Ok(Ok(r)) => r.map_into_left_body(),
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                let err = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    "The request took too long",
                    "the request did not finish in time and may or may not have taken effect; \
                     retry with the same Idempotency-Key where the route honours one",
                );
                // The request was moved into the handler; answer without it.
                return Err(err.into());
            }
        },
    };

    if changes && pattern.is_some() {
        let from_handler = response.request().extensions().get::<AuditActor>().cloned();
        let (tenant_id, actor) = match (caller, from_handler) {
            (Some(who), _) => (Some(who.ctx.tenant_id), who.ctx.actor),
            (None, Some(a)) => (Some(a.tenant_id), a.actor),
            (None, None) => (
                None,
                peer.map_or("anonymous".into(), |ip| format!("ip:{ip}")),
            ),
        };
        state.audit.record(AuditEntry {
            id: uuid::Uuid::now_v7(),
            tenant_id,
            actor,
            action,
            target: Some(target),
            request_id,
            outcome: response.status().as_u16(),
            occurred_at: chrono::Utc::now(),
        });
    }
    Ok(response)
}

fn forbidden(who: &Authenticated, action: &str, scope: Option<identity::Scope>) -> ApiError {
    let detail = match (who.role(), scope) {
        (Some(role), _) => format!("the {role} role may not call {action}"),
        (None, Some(scope)) => format!("this API key needs the `{scope}` scope to call {action}"),
        (None, None) => {
            format!("{action} needs a user login (or a full-access key), not a scoped API key")
        }
    };
    ApiError::forbidden(detail)
}
