//! Runs the real Tote application in-process (`Application::build` on 127.0.0.1:0) on a
//! runtime of its own, so stopping it also stops its outbox relay and database pool.

use crate::error::{Context, Result};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tote::config::Settings;
use tote::startup::Application;

pub struct RunningApp {
    pub base: String,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Starts Tote on `database_url` with a pool of `pool` connections (PostgreSQL only).
pub async fn start(database_url: &str, pool: u32) -> Result<RunningApp> {
    let url = database_url.to_owned();
    let settings = Settings::from_lookup(|name| match name {
        "TOTE_HTTP_ADDR" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(url.clone()),
        "TOTE_DATABASE_MAX_CONNECTIONS" => Some(pool.to_string()),
        // The bench measures the platform, not the per-tenant request limit.
        "TOTE_TENANT_RATE_PER_MINUTE" => Some("0".into()),
        // Any other TOTE_ setting as the environment gives it, so a run can try one
        // (`TOTE_OUTBOX_POLL_MS=50 bench …`); unset, the app's own default. Not AMQP_URL and
        // the like: the bench measures the embedded relay unless told otherwise here.
        name if name.starts_with("TOTE_") => std::env::var(name).ok(),
        _ => None,
    })
    .context(|| "bench settings".to_owned())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tote-app")
        .enable_all()
        .build()
        .context(|| "starting a runtime for the app".to_owned())?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    runtime.spawn(async move {
        match Application::build(settings).await {
            Ok(app) => {
                let _ = tx.send(Ok(app.port()));
                let _ = app.run_until_stopped().await;
            }
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
            }
        }
    });
    let port = rx
        .await
        .context(|| "the app stopped while starting".to_owned())?
        .map_err(|e| format!("Tote did not start: {e}"))?;
    Ok(RunningApp {
        base: format!("http://127.0.0.1:{port}"),
        runtime: Some(runtime),
    })
}

impl RunningApp {
    pub fn stop(mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A seller's API key and the HTTP client the scenarios share.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: String,
    pub client: reqwest::Client,
}

pub fn client(connections: usize) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context(|| "building the HTTP client".to_owned())
}

/// Signs up a seller and returns its API key and tenant id.
pub async fn signup(base: &str, company: &str) -> Result<(Api, String)> {
    let client = client(64)?;
    let reply: Value = expect(
        client
            .post(format!("{base}/api/v1/signup"))
            .json(&json!({ "company": company, "email": "bench@example.com" }))
            .send()
            .await,
        StatusCode::CREATED,
        "signing up",
    )
    .await?;
    let key = reply["api_key"]
        .as_str()
        .ok_or("signup: no api_key in reply")?;
    let tenant = reply["tenant_id"].as_str().ok_or("signup: no tenant_id")?;
    Ok((
        Api {
            base: base.to_owned(),
            key: key.to_owned(),
            client,
        },
        tenant.to_owned(),
    ))
}

async fn expect(
    sent: reqwest::Result<reqwest::Response>,
    status: StatusCode,
    what: &str,
) -> Result<Value> {
    let response = sent.context(|| format!("{what}: request failed"))?;
    let got = response.status();
    let body = response.text().await.unwrap_or_default();
    if got != status {
        return Err(format!("{what}: expected {status}, got {got}: {body}").into());
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn create_product(&self, sku: &str) -> Result<()> {
        let sent = self
            .client
            .post(self.url("/api/v1/products"))
            .bearer_auth(&self.key)
            .json(&json!({ "sku": sku, "name": format!("Bench product {sku}") }))
            .send()
            .await;
        expect(
            sent,
            StatusCode::CREATED,
            &format!("creating product {sku}"),
        )
        .await?;
        Ok(())
    }

    pub async fn set_stock(&self, sku: &str, on_hand: i64) -> Result<()> {
        let sent = self
            .client
            .put(self.url(&format!("/api/v1/inventory/{sku}/quantity")))
            .bearer_auth(&self.key)
            .json(&json!({ "on_hand": on_hand, "reason": "bench stock" }))
            .send()
            .await;
        expect(sent, StatusCode::OK, &format!("setting stock of {sku}")).await?;
        Ok(())
    }

    /// Creates each SKU and sets its stock, `concurrency` requests at a time, over HTTP.
    pub async fn seed_catalogue(&self, skus: &[String], on_hand: i64) -> Result<()> {
        let results: Vec<Result<()>> = futures::stream::iter(skus.iter())
            .map(|sku| async move {
                self.create_product(sku).await?;
                self.set_stock(sku, on_hand).await
            })
            .buffer_unordered(16)
            .collect()
            .await;
        results.into_iter().collect()
    }
}

/// `PREFIX-000001`, `PREFIX-000002`, …
pub fn sku_names(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("{prefix}-{i:06}")).collect()
}
