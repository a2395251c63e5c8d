//! Order management: every order from every channel, and what happens to it.
//!
//! Owns the [`Order`] aggregate with its lines and ship-to [`Address`], the [`OrderStatus`]
//! machine (illegal transitions are typed errors), order events, and the use cases in
//! [`service`]: place an order with atomic stock reservation, cancel it, read it.
//! When orders need stock this crate owns the port ([`ports::OrderTransaction::reserve`]); an
//! adapter implements it against inventory's tables, in the same transaction as the order.
//! Must never depend on an I/O crate, nor on another context's crate.

pub mod draft;
pub mod error;
pub mod events;
pub mod lifecycle;
pub mod model;
pub mod ports;
pub mod returns;
pub mod service;
pub mod service_level;
pub mod shipment;
pub mod status;

pub use draft::{NewOrder, NewOrderLine};
pub use error::{OrderError, Shortage};
pub use kernel::Address;
pub use lifecycle::OrderChanges;
pub use model::{Hold, Order, OrderLine, StatusChange};
pub use service_level::{Cutoff, ServiceLevel};
pub use shipment::{NewShipment, Shipment, ShipmentLine};
pub use status::OrderStatus;
