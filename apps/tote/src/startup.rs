//! Builds the application on a bound listener, so tests can use port 0 and learn the port.

use crate::audit::AuditSink;
use crate::config::Settings;
use crate::consumers;
use crate::error::{ApiError, json_error, path_error, query_error};
use crate::jwt::KeySet;
use crate::metrics::Metrics;
use crate::relay::{self, InProcessPublisher};
use crate::routes;
use crate::state::AppState;
use actix_web::dev::Server;
use actix_web::{App, HttpServer, ResponseError, web};
use notification::Notifier;
use sql::{SqlConfig, SqlStore};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;

pub struct Application {
    port: u16,
    server: Server,
    relay: Option<JoinHandle<()>>,
    dispatcher: Option<JoinHandle<()>>,
    hold_expiry: Option<JoinHandle<()>>,
    tracking_poll: Option<JoinHandle<()>>,
    sampler: JoinHandle<()>,
    dead_letter_sampler: Option<JoinHandle<()>>,
    audit_writer: JoinHandle<()>,
    pub store: SqlStore,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "cannot open the database ({label}): {source}. Check DATABASE_URL and that the database server is running"
    )]
    Database {
        label: String,
        source: kernel::StoreError,
    },
    #[error("TOTE_JWT_KEYS: {0}")]
    JwtKeys(String),
    #[error("shipping (TOTE_EASYPOST_API_KEY, TOTE_EASYPOST_URL): {0}")]
    Shipping(warehouse::CarrierError),
    #[error("customer notifications: {0}")]
    Mail(#[from] notify::MailConfigError),
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    #[error("cannot migrate the database: {0}")]
    Migrate(kernel::StoreError),
    #[error("cannot listen on {addr}: {source}. Is another process using it? Set TOTE_HTTP_ADDR")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Opens the database, creating the SQLite folder if needed, and migrates when asked.
pub async fn open_store(settings: &Settings, migrate: bool) -> Result<SqlStore, StartupError> {
    if let Some(dir) = settings.sqlite_dir() {
        std::fs::create_dir_all(&dir).map_err(|source| StartupError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let store = SqlStore::connect(&SqlConfig {
        url: settings.database_url.expose().to_owned(),
        max_connections: settings.database_max_connections,
    })
    .await
    .map_err(|source| StartupError::Database {
        label: settings.database_label(),
        source,
    })?;
    if migrate {
        store.migrate().await.map_err(StartupError::Migrate)?;
    }
    Ok(store)
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // One shard of connections per HTTP worker, so each keeps its own (ADR 028).
        let store = open_store(&settings, true)
            .await?
            .sharded_by_thread(settings.http_workers.get())
            .map_err(|source| StartupError::Database {
                label: settings.database_label(),
                source,
            })?;
        let listener =
            TcpListener::bind(settings.http_addr).map_err(|source| StartupError::Bind {
                addr: settings.http_addr.to_string(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: settings.http_addr.to_string(),
                source,
            })?
            .port();
        let metrics = Metrics::new().map_err(|e| StartupError::Metrics(e.to_string()))?;
        // Background work runs on a pool of its own, so its bursts never hold the
        // connections requests wait for (ADR 026).
        let background = store
            .with_own_pool(settings.database_background_connections)
            .map_err(|source| StartupError::Database {
                label: settings.database_label(),
                source,
            })?;
        let notifier = notifier(&settings)?;
        // With RabbitMQ, `tote worker` relays and consumes; embedded, this process does both.
        let relay = match &settings.amqp_url {
            None => Some(spawn_in_process_events(
                &background,
                &settings,
                Some(metrics.clone()),
                &notifier,
            )),
            Some(_) => None,
        };
        let dispatcher = settings.amqp_url.is_none().then(|| {
            crate::dispatch::spawn(
                background.clone(),
                settings.webhook_allow_private,
                Duration::from_millis(settings.outbox_poll_ms.max(100)),
                metrics.clone(),
            )
        });
        let hold_expiry = settings
            .amqp_url
            .is_none()
            .then(|| crate::hold_expiry::spawn(background.clone(), Duration::from_secs(5)));
        // The background store shares the requests' pool when given no connections of its own.
        let mut pools = vec![("requests", store.clone())];
        if settings.database_background_connections > 0 {
            pools.push(("background", background.clone()));
        }
        // Read through the background store: a borrow from the requests' pool on this runtime
        // would open connections that then serve the HTTP workers from the wrong thread.
        let sampler = metrics.spawn_sampler(background.clone(), pools, Duration::from_secs(5));
        // Embedded, dead letters are this process's; with RabbitMQ the worker reports them.
        let dead_letter_sampler = settings.amqp_url.is_none().then(|| {
            metrics.spawn_broker_sampler(
                background.clone(),
                None,
                consumer_names(&background, &notifier),
                Duration::from_secs(15),
            )
        });
        let keys = match &settings.jwt_keys {
            Some(spec) => KeySet::from_spec(spec).map_err(StartupError::JwtKeys)?,
            None => {
                tracing::warn!(
                    "TOTE_JWT_KEYS is not set: signing access tokens with an ephemeral key; \
                     every login ends when this process stops. Set TOTE_JWT_KEYS in production"
                );
                KeySet::ephemeral()
            }
        };
        let (audit, audit_writer) = AuditSink::spawn(background.clone());
        let shipping = crate::shipping::Shipping::new(store.clone(), &settings)
            .map_err(StartupError::Shipping)?;
        // Embedded, this process tracks parcels; with RabbitMQ the worker does.
        let tracking_poll = match settings.amqp_url {
            Some(_) => None,
            None => crate::shipping::spawn_tracking_poll(
                background.clone(),
                &settings,
                Duration::from_secs(settings.tracking_poll_secs.max(1)),
            )
            .map_err(StartupError::Shipping)?,
        };
        let server = serve(
            listener,
            AppState::new(
                store.clone(),
                &settings,
                metrics,
                keys,
                audit,
                notifier,
                shipping,
            ),
            settings.max_body_bytes,
            settings.http_workers.get(),
        )
        .map_err(|source| StartupError::Bind {
            addr: settings.http_addr.to_string(),
            source,
        })?;
        let events_label = if settings.amqp_url.is_some() {
            "RabbitMQ, relayed by `tote worker`"
        } else {
            "in-process"
        };
        tracing::info!(
            "Tote listening on http://127.0.0.1:{port} (bound {}; database: {}; events: {events_label})",
            settings.http_addr,
            settings.database_label(),
        );
        Ok(Self {
            port,
            server,
            relay,
            dispatcher,
            hold_expiry,
            tracking_poll,
            sampler,
            dead_letter_sampler,
            audit_writer,
            store,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(relay) = self.relay {
            relay.abort();
        }
        if let Some(expiry) = self.hold_expiry {
            expiry.abort();
        }
        if let Some(poll) = self.tracking_poll {
            poll.abort();
        }
        if let Some(dispatcher) = self.dispatcher {
            dispatcher.abort();
        }
        self.sampler.abort();
        if let Some(sampler) = self.dead_letter_sampler {
            sampler.abort();
        }
        // The server (and with it every audit sender) is gone: let the writer drain, briefly.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.audit_writer).await;
        result
    }
}

/// Where customer notifications go: SMTP when `TOTE_SMTP_URL` is set, else `.eml` files.
pub fn notifier(settings: &Settings) -> Result<Arc<dyn Notifier>, StartupError> {
    let config = settings.mail_config();
    let notifier = notify::build(&config)?;
    tracing::info!(
        "customer notifications: {} (from {})",
        notify::describe(&config),
        config.from
    );
    Ok(notifier)
}

/// The embedded default's event pipeline: relay to in-process consumers.
pub fn spawn_in_process_events(
    store: &SqlStore,
    settings: &Settings,
    metrics: Option<Metrics>,
    notifier: &Arc<dyn Notifier>,
) -> JoinHandle<()> {
    let publisher = InProcessPublisher::new(store.clone(), consumers::all(store, notifier));
    relay::spawn(
        store.clone(),
        std::sync::Arc::new(publisher),
        Duration::from_millis(settings.outbox_poll_ms),
        metrics,
    )
}

/// Every consumer's name, for per-consumer metrics.
pub fn consumer_names(store: &SqlStore, notifier: &Arc<dyn Notifier>) -> Vec<&'static str> {
    consumers::all(store, notifier)
        .iter()
        .map(|h| h.name())
        .collect()
}

fn serve(
    listener: TcpListener,
    state: AppState,
    max_body: usize,
    workers: usize,
) -> std::io::Result<Server> {
    let http_metrics = state.metrics.http.clone();
    let state = web::Data::new(state);
    // actix-web builds the app once on each worker's own thread, as it starts: each worker
    // takes the next shard of the requests' pool (ADR 028).
    let next_worker = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = HttpServer::new(move || {
        SqlStore::bind_thread_to_shard(
            next_worker.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
        App::new()
            .wrap(actix_web::middleware::from_fn(crate::guard::middleware))
            .wrap(TracingLogger::<crate::request_id::RootSpan>::new())
            .wrap(http_metrics.clone())
            .wrap(actix_web::middleware::from_fn(
                crate::request_id::middleware,
            ))
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(|e, _| json_error(e).into()),
            )
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e).into()))
            .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e).into()))
            .configure(routes::configure)
            .default_service(web::to(not_found))
    })
    .client_request_timeout(Duration::from_secs(10))
    .workers(workers)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    ApiError::not_found(format!("no route for {} {}", req.method(), req.path())).error_response()
}
