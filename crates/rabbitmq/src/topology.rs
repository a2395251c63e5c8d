//! Exchanges and queues, declared idempotently by whoever connects first.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

/// Every event, routed by its type (`order.created`, ...).
pub const EXCHANGE: &str = "tote.events";
/// Where consumers' given-up messages go, routed by consumer name.
pub const DEAD_LETTER_EXCHANGE: &str = "tote.events.dlx";

/// A consumer's queue: its name, the routing keys it binds, its delivery limit.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub consumer: String,
    pub subscriptions: Vec<String>,
    pub delivery_limit: u32,
    /// Let the broker delete the queues after this long unused (tests, temporary consumers).
    pub expires_ms: Option<u32>,
}

pub fn queue_name(consumer: &str) -> String {
    format!("tote.{consumer}")
}

pub fn dead_letter_queue_name(consumer: &str) -> String {
    format!("tote.{consumer}.dlq")
}

fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

pub async fn declare_exchanges(channel: &Channel) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            EXCHANGE.into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            DEAD_LETTER_EXCHANGE.into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await
}

/// The consumer's quorum queue, bound to its subscriptions, with a delivery limit after which
/// a message is dead-lettered to the consumer's own DLQ. (RabbitMQ before 4.0 sets no limit by
/// default: without one a poison message would loop for ever.)
pub async fn declare_consumer_queue(
    channel: &Channel,
    consumer: &str,
    subscriptions: &[impl AsRef<str>],
    delivery_limit: u32,
    expires_ms: Option<u32>,
) -> lapin::Result<()> {
    let mut quorum = FieldTable::default();
    if let Some(ms) = expires_ms {
        quorum.insert("x-expires".into(), AMQPValue::LongUInt(ms));
    }
    quorum.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );

    let dlq = dead_letter_queue_name(consumer);
    channel
        .queue_declare(dlq.as_str().into(), durable_queue(), quorum.clone())
        .await?;
    channel
        .queue_bind(
            dlq.as_str().into(),
            DEAD_LETTER_EXCHANGE.into(),
            consumer.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let mut args = quorum;
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(consumer.into()),
    );
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongUInt(delivery_limit),
    );
    let queue = queue_name(consumer);
    channel
        .queue_declare(queue.as_str().into(), durable_queue(), args)
        .await?;
    for key in subscriptions {
        channel
            .queue_bind(
                queue.as_str().into(),
                EXCHANGE.into(),
                key.as_ref().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}
