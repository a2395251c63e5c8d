//! `tote worker`: publishes the outbox and runs the consumers. With `AMQP_URL` it relays to
//! RabbitMQ and consumes from it (run as many workers as you like: claims never overlap);
//! without, it runs the same consumers in-process.

use crate::config::Settings;
use crate::consumers;
use crate::metrics::Metrics;
use crate::relay;
use crate::startup::{StartupError, consumer_names, open_store, spawn_in_process_events};
use rabbitmq::{ConsumerOptions, RabbitPublisher, queue_spec, run_consumer};
use std::sync::Arc;
use std::time::Duration;

pub async fn run(settings: Settings) -> Result<(), StartupError> {
    let store = open_store(&settings, true).await?;
    let mut tasks = Vec::new();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut consumers = Vec::new();
    let metrics = Metrics::new().map_err(|e| StartupError::Metrics(e.to_string()))?;
    let notifier = crate::startup::notifier(&settings)?;
    let (metrics_server, _) = serve_metrics(&settings, &metrics)?;
    // The worker's transactions are all background work.
    tasks.push(metrics.spawn_sampler(
        store.clone(),
        vec![("background", store.clone())],
        Duration::from_secs(5),
    ));
    tasks.push(metrics.spawn_broker_sampler(
        store.clone(),
        settings.amqp_url.as_ref().map(|u| u.expose().to_owned()),
        consumer_names(&store, &notifier),
        Duration::from_secs(15),
    ));
    match &settings.amqp_url {
        None => {
            tracing::info!("worker: no AMQP_URL; relaying to in-process consumers");
            tasks.push(spawn_in_process_events(
                &store,
                &settings,
                Some(metrics.clone()),
                &notifier,
            ));
        }
        Some(url) => {
            let handlers = consumers::all(&store, &notifier);
            let options = ConsumerOptions::default();
            let queues = handlers
                .iter()
                .map(|h| queue_spec(h.as_ref(), &options))
                .collect();
            let publisher = RabbitPublisher::new(url.expose(), queues);
            if let Err(e) = publisher.connect().await {
                // Not fatal: events wait in the outbox and the relay keeps retrying.
                tracing::warn!(error = %e, "worker: RabbitMQ is not reachable yet; retrying");
            }
            tasks.push(relay::spawn(
                store.clone(),
                Arc::new(publisher),
                Duration::from_millis(settings.outbox_poll_ms),
                Some(metrics.clone()),
            ));
            for handler in handlers {
                tracing::info!(consumer = handler.name(), "worker: starting consumer");
                consumers.push(tokio::spawn(run_consumer(
                    url.expose().to_owned(),
                    handler,
                    options.clone(),
                    stopping.clone(),
                )));
            }
        }
    }
    tasks.push(crate::dispatch::spawn(
        store.clone(),
        settings.webhook_allow_private,
        Duration::from_secs(1),
        metrics.clone(),
    ));
    tasks.push(crate::hold_expiry::spawn(
        store.clone(),
        Duration::from_secs(5),
    ));
    if let Some(poll) = crate::shipping::spawn_tracking_poll(
        store.clone(),
        &settings,
        Duration::from_secs(settings.tracking_poll_secs.max(1)),
    )
    .map_err(StartupError::Shipping)?
    {
        tasks.push(poll);
    }
    tracing::info!(
        "Tote worker running (database: {}); Ctrl-C to stop",
        settings.database_label()
    );
    let metrics_handle = metrics_server.handle();
    let metrics_task = tokio::spawn(metrics_server);
    shutdown_signal().await;
    tracing::info!("worker: stopping");
    metrics_handle.stop(true).await;
    metrics_task.abort();
    for task in tasks {
        task.abort();
    }
    // Consumers finish the message in hand and close their connections; unacked ones go back.
    let _ = stop.send(true);
    for consumer in consumers {
        let _ = tokio::time::timeout(Duration::from_secs(10), consumer).await;
    }
    Ok(())
}

/// The worker's own small HTTP listener: `/metrics` for Prometheus, `/health` for probes.
/// Returns the server (to be awaited) and the address it bound.
pub fn serve_metrics(
    settings: &Settings,
    metrics: &Metrics,
) -> Result<(actix_web::dev::Server, std::net::SocketAddr), StartupError> {
    let listener = std::net::TcpListener::bind(settings.worker_metrics_addr).map_err(|source| {
        StartupError::Bind {
            addr: settings.worker_metrics_addr.to_string(),
            source,
        }
    })?;
    let addr = listener.local_addr().map_err(|source| StartupError::Bind {
        addr: settings.worker_metrics_addr.to_string(),
        source,
    })?;
    let http = metrics.http.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().wrap(http.clone()).route(
            "/health",
            actix_web::web::get().to(|| async { actix_web::HttpResponse::Ok().body("ok") }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(|source| StartupError::Bind {
        addr: settings.worker_metrics_addr.to_string(),
        source,
    })?
    .run();
    tracing::info!("worker: metrics on http://{addr}/metrics");
    Ok((server, addr))
}

/// Ctrl-C, or SIGTERM (what Kubernetes sends).
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
