use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "operations", responses((status = 200, description = "alive")))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the database answers. A load balancer sends no traffic while this is 503.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "ready"),
        (status = 503, description = "database unreachable")
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready", "database": "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": "unreachable" }))
        }
    }
}
