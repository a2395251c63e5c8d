//! Customer notifications: order confirmed, shipped (with tracking), delivered, return
//! received.
//!
//! Owns the message kinds, the default templates and the tenant's overrides (Jinja, rendered
//! with minijinja and checked when saved), which events trigger which message and with which
//! variables, the ports ([`Notifier`] sends, [`TemplateStore`], [`Recipients`],
//! [`NotificationLog`]) and the use cases ([`NotificationService`]). It must never do I/O
//! itself: SMTP and files live in the `notify` adapter, tables in `sql`.

mod kind;
mod ports;
mod service;
mod template;
mod trigger;

#[cfg(test)]
mod test_support;

pub use kind::{MessageKind, UnknownKind};
pub use ports::{
    DeliveryStatus, LogEntry, NotificationLog, Notifier, OutgoingMessage, Recipient, Recipients,
    SendError, TemplateStore,
};
pub use service::{NotificationError, NotificationService, Outcome, TemplateView};
pub use template::{MAX_BODY, MAX_SUBJECT, RenderError, Rendered, Template, sample_variables};
pub use trigger::{MalformedEvent, TRIGGER_EVENTS, Trigger, money, trigger_for};

/// The consumer name of the event handler that sends notifications (its queue and inbox).
pub const CONSUMER: &str = "notifications.customer";
