//! A consumer's dead-letter queue: look at what is in it, and send it back to be tried again.

use crate::topology::{dead_letter_queue_name, queue_name};
use kernel::EventEnvelope;
use lapin::options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};

/// A message in a dead-letter queue: the event when it is readable, the raw text otherwise.
#[derive(Debug, Clone)]
pub enum DeadMessage {
    Event(Box<EventEnvelope>),
    Unreadable(String),
}

async fn open(url: &str) -> lapin::Result<(Connection, lapin::Channel)> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    Ok((connection, channel))
}

fn read(data: &[u8]) -> DeadMessage {
    match serde_json::from_slice(data) {
        Ok(event) => DeadMessage::Event(Box::new(event)),
        Err(_) => DeadMessage::Unreadable(String::from_utf8_lossy(data).into_owned()),
    }
}

/// Up to `max` messages of the consumer's DLQ, left in place: they are taken unacknowledged
/// and return to the queue when the channel closes.
pub async fn peek(url: &str, consumer: &str, max: usize) -> lapin::Result<Vec<DeadMessage>> {
    let (connection, channel) = open(url).await?;
    let queue = dead_letter_queue_name(consumer);
    let mut found = Vec::new();
    while found.len() < max {
        match channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false })
            .await?
        {
            Some(message) => found.push(read(&message.delivery.data)),
            None => break,
        }
    }
    let _ = connection.close(200, "peeked".into()).await;
    Ok(found)
}

/// Moves every message of the consumer's DLQ back onto its queue (and only its queue: other
/// consumers already handled the event). Each is acknowledged in the DLQ only after the broker
/// confirmed the copy, so a failure midway loses nothing. Returns how many moved.
pub async fn replay(url: &str, consumer: &str) -> lapin::Result<usize> {
    let (connection, channel) = open(url).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let dlq = dead_letter_queue_name(consumer);
    let target = queue_name(consumer);
    let mut moved = 0;
    while let Some(message) = channel
        .basic_get(dlq.as_str().into(), BasicGetOptions { no_ack: false })
        .await?
    {
        let delivery = message.delivery;
        let confirm = channel
            .basic_publish(
                "".into(),
                target.as_str().into(),
                BasicPublishOptions::default(),
                &delivery.data,
                BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type("application/json".into()),
            )
            .await?
            .await?;
        if !confirm.is_ack() {
            break;
        }
        delivery.ack(BasicAckOptions::default()).await?;
        moved += 1;
    }
    let _ = connection.close(200, "replayed".into()).await;
    Ok(moved)
}
