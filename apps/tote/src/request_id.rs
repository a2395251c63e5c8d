//! `X-Request-Id`: taken from the caller (when sane) or made, put on the response, on the
//! request's tracing span (so on every log line of the request), and used as the correlation
//! id of the events the request causes (when it is a UUID).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub const HEADER: &str = "x-request-id";

/// The id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn accepted(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (!raw.is_empty() && raw.len() <= 128 && raw.chars().all(|c| c.is_ascii_graphic()))
        .then(|| raw.to_owned())
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(accepted)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(response)
}

/// The request span, carrying our request id instead of tracing-actix-web's own.
pub struct RootSpan;

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "UNMATCHED".to_owned());
        let span = tracing::info_span!(
            "http",
            otel.name = %format!("{} {route}", request.method()),
            request_id = %id,
            method = %request.method(),
            route = %route,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        // A caller that traces (W3C `traceparent`) sees this request inside its own trace.
        let traceparent = request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .filter(|v| kernel::trace::is_traceparent(v));
        crate::telemetry::continue_trace(&span, traceparent);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::accepted;

    #[test]
    fn only_short_visible_ids_are_taken_from_callers() {
        assert_eq!(accepted(" abc-123 ").as_deref(), Some("abc-123"));
        assert_eq!(accepted(""), None);
        assert_eq!(accepted("has space"), None);
        assert_eq!(accepted(&"x".repeat(129)), None);
    }
}
