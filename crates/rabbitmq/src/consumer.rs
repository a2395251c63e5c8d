use crate::topology::{declare_consumer_queue, declare_exchanges, queue_name};
use futures::StreamExt;
use kernel::{EventEnvelope, EventHandler, HandlerError};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// Deliveries of one message before it is dead-lettered.
    pub delivery_limit: u32,
    /// Unacknowledged messages in flight per consumer.
    pub prefetch: u16,
    /// First reconnect delay; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Unused queues are deleted by the broker after this long (`x-expires`); `None` keeps them.
    pub queue_expires: Option<Duration>,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        Self {
            delivery_limit: 5,
            prefetch: 32,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            queue_expires: None,
        }
    }
}

/// The queue `handler` consumes from, for [`crate::RabbitPublisher::new`].
pub fn queue_spec(handler: &dyn EventHandler, options: &ConsumerOptions) -> crate::QueueSpec {
    crate::QueueSpec {
        consumer: handler.name().to_owned(),
        subscriptions: handler
            .subscriptions()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        delivery_limit: options.delivery_limit,
        expires_ms: options
            .queue_expires
            .map(|d| d.as_millis().min(u32::MAX as u128) as u32),
    }
}

/// Runs `handler` on its queue until `shutdown` turns true, reconnecting with exponential
/// backoff (and jitter) whenever the connection breaks. On shutdown it closes its connection,
/// so unacknowledged messages return to the queue at once.
pub async fn run_consumer(
    url: String,
    handler: Arc<dyn EventHandler>,
    options: ConsumerOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = options.min_backoff;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match consume(
            &url,
            handler.as_ref(),
            &options,
            &mut backoff,
            &mut shutdown,
        )
        .await
        {
            Ok(Ended::Shutdown) => return,
            Ok(Ended::Stream) => tracing::warn!(consumer = handler.name(), "consumer stream ended"),
            Err(e) => {
                tracing::warn!(consumer = handler.name(), error = %e, "consumer lost RabbitMQ")
            }
        }
        let jitter =
            0.5 + (std::process::id() as u64 ^ backoff.as_nanos() as u64) as f64 % 500.0 / 1000.0;
        tokio::select! {
            _ = tokio::time::sleep(backoff.mul_f64(jitter)) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(options.max_backoff);
    }
}

enum Ended {
    Stream,
    Shutdown,
}

/// Closes the connection however `consume` ends — error or a dropped task included — so the
/// broker hands this consumer's unacknowledged messages to someone else.
struct Closing(Option<Connection>);

impl Closing {
    fn get(&self) -> &Connection {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take()
            && connection.status().connected()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = connection.close(200, "consumer stopped".into()).await;
            });
        }
    }
}

async fn consume(
    url: &str,
    handler: &dyn EventHandler,
    options: &ConsumerOptions,
    backoff: &mut Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> lapin::Result<Ended> {
    let connection = Closing(Some(
        Connection::connect(url, ConnectionProperties::default()).await?,
    ));
    let channel = connection.get().create_channel().await?;
    declare_exchanges(&channel).await?;
    declare_consumer_queue(
        &channel,
        handler.name(),
        handler.subscriptions(),
        options.delivery_limit,
        queue_spec(handler, options).expires_ms,
    )
    .await?;
    channel
        .basic_qos(options.prefetch, BasicQosOptions::default())
        .await?;
    let queue = queue_name(handler.name());
    let mut deliveries = channel
        .basic_consume(
            queue.as_str().into(),
            format!("{}-{}", handler.name(), std::process::id())
                .as_str()
                .into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(consumer = handler.name(), queue, "consuming");
    *backoff = options.min_backoff;

    loop {
        let delivery = tokio::select! {
            next = deliveries.next() => match next {
                Some(delivery) => delivery?,
                None => return Ok(Ended::Stream),
            },
            _ = shutdown.changed() => {
                let _ = connection.get().close(200, "consumer stopping".into()).await;
                return Ok(Ended::Shutdown);
            }
        };
        let event: EventEnvelope = match serde_json::from_slice(&delivery.data) {
            Ok(event) => event,
            Err(e) => {
                tracing::error!(consumer = handler.name(), error = %e, "unreadable message: dead-lettered");
                delivery
                    .reject(BasicRejectOptions { requeue: false })
                    .await?;
                continue;
            }
        };
        match handler.handle(&event).await {
            Ok(()) => {
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Err(HandlerError::Permanent(reason)) => {
                tracing::error!(consumer = handler.name(), event_id = %event.id, reason, "dead-lettered");
                delivery
                    .reject(BasicRejectOptions { requeue: false })
                    .await?;
            }
            Err(HandlerError::Transient(reason)) => {
                tracing::warn!(consumer = handler.name(), event_id = %event.id, reason, "will retry");
                delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    })
                    .await?;
            }
        }
    }
}
