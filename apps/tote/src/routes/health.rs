use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "operations", responses((status = 200, description = "alive")))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the database answers and, when `AMQP_URL` is set, so does RabbitMQ. A load
/// balancer sends no traffic while this is 503.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "ready"),
        (status = 503, description = "database or broker unreachable")
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.store.ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unreachable"
        }
    };
    let broker = match &state.amqp_url {
        None => "not configured",
        Some(url) => {
            let probe = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                rabbitmq::ping(url.expose()),
            )
            .await;
            match probe {
                Ok(Ok(())) => "ok",
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "readiness: RabbitMQ unreachable");
                    "unreachable"
                }
                Err(_) => {
                    tracing::warn!("readiness: RabbitMQ did not answer within 3 s");
                    "unreachable"
                }
            }
        }
    };
    let body = json!({ "database": database, "broker": broker });
    if database == "ok" && broker != "unreachable" {
        HttpResponse::Ok().json(json!({ "status": "ready", "checks": body }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "checks": body }))
    }
}
