//! The webhook dispatcher: sends due deliveries, records each outcome, schedules retries
//! (30 s doubling to 4 h, over more than a day), and disables endpoints that keep failing.

use chrono::Utc;
use futures::StreamExt;
use integration::webhook::retry_delay;
use kernel::{EventEnvelope, TenantId};
use serde_json::json;
use sql::{DueDelivery, SqlStore};
use std::time::Duration;
use tokio::task::JoinHandle;
use webhooks::WebhookSender;

const BATCH: u64 = 50;
const IN_FLIGHT: usize = 8;
const TIMEOUT: Duration = Duration::from_secs(10);
/// A claimed delivery is not claimed again for this long (a crashed sender's work returns).
const LEASE: Duration = Duration::from_secs(60);

pub fn spawn(
    store: SqlStore,
    allow_private: bool,
    poll: Duration,
    metrics: crate::metrics::Metrics,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let sender = match WebhookSender::new(allow_private, TIMEOUT) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "webhooks: cannot build the HTTP client; deliveries wait");
                return;
            }
        };
        loop {
            match dispatch_once(&store, &sender, &metrics).await {
                Ok(n) if n as u64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhooks: dispatch failed; will retry"),
            }
            tokio::time::sleep(poll).await;
        }
    })
}

/// Sends one batch of due deliveries; returns how many it handled.
pub async fn dispatch_once(
    store: &SqlStore,
    sender: &WebhookSender,
    metrics: &crate::metrics::Metrics,
) -> Result<usize, kernel::StoreError> {
    let due = store.claim_due_deliveries(BATCH, LEASE).await?;
    let count = due.len();
    let results: Vec<Result<(), kernel::StoreError>> = futures::stream::iter(due)
        .map(|d| deliver(store, sender, d, metrics))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(count)
}

async fn deliver(
    store: &SqlStore,
    sender: &WebhookSender,
    d: DueDelivery,
    metrics: &crate::metrics::Metrics,
) -> Result<(), kernel::StoreError> {
    let now = Utc::now();
    let outcome = sender
        .send(
            &d.url,
            &d.secret,
            now.timestamp(),
            &d.delivery.event_id.to_string(),
            &d.delivery.event_type,
            d.body.clone(),
        )
        .await;
    match outcome {
        Ok(status) => {
            metrics.webhook_delivery("delivered");
            store.record_delivery_success(&d, status).await
        }
        Err(failure) => {
            let attempt = d.delivery.attempts + 1;
            let jitter = 0.8 + rand::random::<f64>() * 0.4;
            let retry_at = retry_delay(attempt, jitter)
                .and_then(|delay| chrono::Duration::from_std(delay).ok())
                .map(|delay| now + delay);
            tracing::info!(
                delivery = %d.delivery.id, attempt, status = ?failure.status,
                error = %failure.error, dead = retry_at.is_none(), "webhook delivery failed"
            );
            metrics.webhook_delivery(if retry_at.is_some() { "failed" } else { "dead" });
            let disabled = store
                .record_delivery_failure(&d, failure.status, &failure.error, retry_at)
                .await?;
            if let Some(sub) = disabled {
                metrics.webhook_delivery("endpoint_disabled");
                tracing::warn!(subscription = %sub.id, url = sub.url.as_str(), "webhook endpoint disabled");
                // The owner is told by e-mail (the notification consumer takes this event) and
                // through the event stream.
                store
                    .append_outbox(&[disabled_event(
                        sub.tenant_id,
                        sub.id,
                        sub.url.as_str(),
                        &failure.error,
                    )])
                    .await?;
            }
            Ok(())
        }
    }
}

fn disabled_event(
    tenant: TenantId,
    subscription: uuid::Uuid,
    url: &str,
    error: &str,
) -> EventEnvelope {
    EventEnvelope::new(
        "webhook.disabled",
        tenant,
        Utc::now(),
        "webhook_subscription",
        subscription,
        1,
        json!({
            "subscription_id": subscription,
            "url": url,
            "last_error": error,
            "action": "fix the endpoint, then create the subscription again",
        }),
        None,
    )
}
