//! Seller webhooks: the rules, free of I/O. Which addresses may be called (SSRF), how a
//! delivery is signed, when a failed delivery is retried, and when an endpoint is disabled.
//! The HTTP sender, storage and API live in adapters and the app.

mod address;
mod retry;
mod signature;
mod subscription;

pub use address::{WebhookUrl, WebhookUrlError, is_public_ip};
pub use retry::{MAX_ATTEMPTS, retry_delay};
pub use signature::{SIGNATURE_HEADER, sign, verify};
pub use subscription::{DISABLE_AFTER_CONSECUTIVE_FAILURES, EventPattern, Subscription};
