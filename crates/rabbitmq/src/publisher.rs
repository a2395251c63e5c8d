use crate::topology::{EXCHANGE, QueueSpec, declare_consumer_queue, declare_exchanges};
use async_trait::async_trait;
use kernel::{EventEnvelope, EventPublisher, PublishError, PublishOutcome};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

/// Publishes with publisher confirms over one lazily (re)connected channel.
pub struct RabbitPublisher {
    url: String,
    queues: Vec<QueueSpec>,
    link: Mutex<Option<(Connection, Channel)>>,
}

impl RabbitPublisher {
    /// `queues` are declared on every (re)connect, before anything is published: a message
    /// routed to a queue that does not exist yet would be dropped by the exchange.
    pub fn new(url: impl Into<String>, queues: Vec<QueueSpec>) -> Self {
        Self {
            url: url.into(),
            queues,
            link: Mutex::new(None),
        }
    }

    /// Connects now, to fail fast at start-up with a clear error.
    pub async fn connect(&self) -> Result<(), PublishError> {
        let mut link = self.link.lock().await;
        self.channel(&mut link).await.map(|_| ())
    }

    /// Closes the connection as a broker outage would. The next publish reconnects.
    pub async fn close(&self) {
        if let Some((connection, _)) = self.link.lock().await.take() {
            let _ = connection.close(320, "closed by Tote".into()).await;
        }
    }

    async fn channel(
        &self,
        link: &mut Option<(Connection, Channel)>,
    ) -> Result<Channel, PublishError> {
        if let Some((connection, channel)) = link.as_ref()
            && connection.status().connected()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let broken = |e: lapin::Error| PublishError(format!("RabbitMQ: {e}"));
        let connection = Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .map_err(broken)?;
        let channel = connection.create_channel().await.map_err(broken)?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(broken)?;
        declare_exchanges(&channel).await.map_err(broken)?;
        for q in &self.queues {
            declare_consumer_queue(
                &channel,
                &q.consumer,
                &q.subscriptions,
                q.delivery_limit,
                q.expires_ms,
            )
            .await
            .map_err(broken)?;
        }
        *link = Some((connection, channel.clone()));
        Ok(channel)
    }
}

fn properties(event: &EventEnvelope) -> BasicProperties {
    BasicProperties::default()
        .with_delivery_mode(2) // persistent
        .with_content_type("application/json".into())
        .with_message_id(event.id.to_string().as_str().into())
        .with_type(event.event_type.as_str().into())
        .with_timestamp(event.occurred_at.timestamp().max(0) as u64)
}

#[async_trait]
impl EventPublisher for RabbitPublisher {
    async fn publish(&self, events: &[EventEnvelope]) -> PublishOutcome {
        let mut outcome = PublishOutcome::default();
        let mut link = self.link.lock().await;
        let channel = match self.channel(&mut link).await {
            Ok(channel) => channel,
            Err(e) => {
                outcome.error = Some(e);
                return outcome;
            }
        };
        // Send them all, then wait for the confirms: one round trip for the batch.
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            let payload = match serde_json::to_vec(event) {
                Ok(p) => p,
                Err(e) => {
                    outcome.error = Some(PublishError(format!("cannot encode event: {e}")));
                    break;
                }
            };
            match channel
                .basic_publish(
                    EXCHANGE.into(),
                    event.event_type.as_str().into(),
                    BasicPublishOptions::default(),
                    &payload,
                    properties(event),
                )
                .await
            {
                Ok(confirm) => pending.push((event.id, confirm)),
                Err(e) => {
                    outcome.error = Some(PublishError(format!("RabbitMQ publish: {e}")));
                    break;
                }
            }
        }
        // Only a prefix of broker-acknowledged events counts: order is kept, nothing skipped.
        for (id, confirm) in pending {
            match confirm.await {
                Ok(c) if c.is_ack() => outcome.confirmed.push(id),
                Ok(_) => {
                    outcome.error = Some(PublishError("RabbitMQ refused (nack)".into()));
                    break;
                }
                Err(e) => {
                    outcome.error = Some(PublishError(format!("RabbitMQ confirm: {e}")));
                    break;
                }
            }
        }
        if outcome.error.is_some() {
            *link = None; // reconnect on the next round
        }
        outcome
    }
}
