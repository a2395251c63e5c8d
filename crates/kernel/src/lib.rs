//! The shared kernel: the few value types every bounded context speaks.
//!
//! Owns ids (UUIDv7), [`TenantId`], [`Sku`], [`Quantity`], [`Money`], the [`Clock`] and the
//! [`EventEnvelope`]. It must never depend on an I/O crate, nor on any other Tote crate.

mod address;
mod bus;
mod clock;
mod context;
mod error;
mod event;
mod id;
mod money;
mod page;
mod quantity;
mod sku;

pub mod trace;

pub use address::Address;
pub use bus::{
    EventHandler, EventPublisher, HandlerError, PublishError, PublishOutcome, topic_matches,
};
pub use clock::{Clock, FixedClock, SystemClock};
pub use context::RequestContext;
pub use error::{FieldError, StoreError, ValidationErrors};
pub use event::{CorrelationId, EventEnvelope};
pub use id::{
    ApiKeyId, EventId, HoldId, MovementId, OrderId, ProductId, ReturnId, ShipmentId, TenantId,
    TransferId, WarehouseId,
};
pub use money::{Currency, Money, MoneyError};
pub use page::{Page, PageRequest};
pub use quantity::{Quantity, QuantityError};
pub use sku::{Sku, SkuError};
