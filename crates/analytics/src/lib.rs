//! Analytics: read models fed by domain events (CQRS) for the seller's dashboards.
//!
//! Owns projections such as [`DailyOrders`] (orders per day by channel, created and
//! cancelled), which consume [`kernel::EventEnvelope`]s idempotently, and the
//! [`ProjectionStore`] port that persists them. Must never depend on an I/O crate, nor on
//! another context's crate: it knows events only by their envelope and payload.

mod daily_orders;

pub use daily_orders::{
    DailyIncrement, DailyOrderCount, DailyOrders, ProjectionStore, combine, daily_increment,
};
