//! Sales-channel integration: Shopify, WooCommerce, Amazon, universal REST and CSV.
//!
//! Owns the [`SyncJob`] aggregate — every sync is visible: state, attempts, last error, next
//! run — with its retry schedule (exponential backoff with jitter, then dead-letter), and the
//! [`SyncJobRepository`] port. Connectors and channel-order normalisation build on it.
//! [`webhook`] holds the rules of seller webhooks (SSRF checks, signatures, retries).
//! Must never depend on an I/O crate, nor on another context's crate.

mod sync_job;
pub mod webhook;

pub use sync_job::{SyncJob, SyncJobRepository, SyncState};
