//! The RabbitMQ adapter (lapin).
//!
//! [`RabbitPublisher`] implements [`kernel::EventPublisher`]: events go to the durable topic
//! exchange `tote.events` with the event type as routing key, persistent, and count as
//! published only once the broker confirms them. [`run_consumer`] runs a
//! [`kernel::EventHandler`] on its own quorum queue, with a delivery limit and a dead-letter
//! queue, reconnecting with backoff when the broker goes away.
//! It holds no business rule: handlers decide what an event means.

mod consumer;
pub mod dead_letters;
mod depth;
mod publisher;
pub mod topology;

pub use consumer::{ConsumerOptions, queue_spec, run_consumer};
pub use depth::{QueueDepth, ping, queue_depths};
pub use publisher::RabbitPublisher;
pub use topology::QueueSpec;
