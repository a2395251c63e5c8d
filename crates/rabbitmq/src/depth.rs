//! How many messages wait in each consumer's queue and dead-letter queue, for metrics.

use crate::topology::{dead_letter_queue_name, queue_name};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

/// Ready messages of one consumer's queues; `None` where the queue does not exist (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub consumer: String,
    pub ready: Option<u32>,
    pub dead: Option<u32>,
}

/// Reads the depths with passive declares (nothing is created). A missing queue closes its
/// channel on the broker side, so each queue gets a channel of its own.
pub async fn queue_depths(url: &str, consumers: &[&str]) -> lapin::Result<Vec<QueueDepth>> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let mut depths = Vec::with_capacity(consumers.len());
    for consumer in consumers {
        depths.push(QueueDepth {
            consumer: (*consumer).to_owned(),
            ready: count(&connection, &queue_name(consumer)).await,
            dead: count(&connection, &dead_letter_queue_name(consumer)).await,
        });
    }
    let _ = connection.close(200, "depths read".into()).await;
    Ok(depths)
}

async fn count(connection: &Connection, queue: &str) -> Option<u32> {
    let channel = connection.create_channel().await.ok()?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let declared = channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
        .ok()?;
    let _ = channel.close(200, "counted".into()).await;
    Some(declared.message_count())
}

/// Whether the broker accepts a connection (readiness probes).
pub async fn ping(url: &str) -> lapin::Result<()> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let _ = connection.close(200, "ping".into()).await;
    Ok(())
}
