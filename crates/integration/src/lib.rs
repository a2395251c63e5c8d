//! Sales-channel integration: Shopify, WooCommerce, Amazon, universal REST and CSV.
//!
//! Owns the [`SyncJob`] aggregate — every sync is visible: state, attempts, last error, next
//! run — with its retry schedule (exponential backoff with jitter, then dead-letter), and the
//! [`SyncJobRepository`] port. Connectors and channel-order normalisation build on it.
//! Must never depend on an I/O crate, nor on another context's crate.

mod sync_job;

pub use sync_job::{SyncJob, SyncJobRepository, SyncState};
