//! Logs: human-readable by default, JSON for production. `RUST_LOG` filters as usual.
//! Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT` set (and the `otel` feature, on by default),
//! spans are exported over OTLP/HTTP; an incoming `traceparent` continues the caller's trace,
//! and every event written while serving a request carries the request's `traceparent`, so a
//! consumer's work joins the same trace.

use crate::config::LogFormat;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Keeps the trace exporter alive; dropping it flushes what is buffered.
#[derive(Default)]
pub struct TelemetryGuard {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("tote: could not flush traces: {e}");
        }
    }
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

pub fn init(format: LogFormat) -> TelemetryGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs: BoxedLayer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .compact()
            .with_filter(filter)
            .boxed(),
    };
    #[allow(unused_mut)] // only the `otel` feature adds a layer
    let mut layers: Vec<BoxedLayer> = vec![logs];
    #[allow(unused_mut)]
    let mut guard = TelemetryGuard::default();
    #[cfg(feature = "otel")]
    if let Some(endpoint) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        match otel::layer() {
            Ok((layer, provider)) => {
                layers.push(layer);
                guard.provider = Some(provider);
                kernel::trace::set_traceparent_source(otel::current_traceparent);
                eprintln!("tote: exporting traces over OTLP to {endpoint}");
            }
            Err(e) => eprintln!("tote: OTLP export disabled, cannot set it up: {e}"),
        }
    }
    // A second init (tests) is harmless; ignore the error.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    guard
}

/// Makes `span` a child of the W3C `traceparent` the caller sent, if tracing is on.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    #[cfg(feature = "otel")]
    if let Some(tp) = traceparent {
        otel::set_parent(span, tp);
    }
    #[cfg(not(feature = "otel"))]
    let _ = (span, traceparent);
}

#[cfg(feature = "otel")]
mod otel {
    use super::BoxedLayer;
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use std::collections::HashMap;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::Layer;

    /// The OTLP exporter reads `OTEL_EXPORTER_OTLP_ENDPOINT` (and the other standard
    /// `OTEL_*` variables) itself and sends to `<endpoint>/v1/traces`.
    pub fn layer() -> Result<(BoxedLayer, SdkTracerProvider), Box<dyn std::error::Error>> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("tote")
                    .build(),
            )
            .build();
        let tracer = provider.tracer("tote");
        // Its own filter: quiet logs (`RUST_LOG=warn`) must not switch tracing off, and the
        // exporter's HTTP stack must not trace itself.
        let spans = tracing_subscriber::EnvFilter::try_from_env("TOTE_TRACE_FILTER")
            .unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "info,sqlx=warn,sea_orm=warn,hyper=off,hyper_util=off,reqwest=off,h2=off,opentelemetry=off",
                )
            });
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(spans)
            .boxed();
        Ok((layer, provider))
    }

    /// The current span's context as a W3C `traceparent`, if it has one.
    pub fn current_traceparent() -> Option<String> {
        let context = tracing::Span::current().context();
        let span = context.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return None;
        }
        let mut carrier = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        carrier.remove("traceparent")
    }

    pub fn set_parent(span: &tracing::Span, traceparent: &str) {
        let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
        let parent = TraceContextPropagator::new().extract(&carrier);
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
    }
}
