//! Inventory: the one true stock figure per SKU.
//!
//! Owns the product catalogue ([`Product`]), stock levels ([`StockLevel`]: on hand, reserved,
//! available) and the immutable movement ledger ([`StockMovement`]) that explains every change.
//! Use cases live in [`service`]; storage is reached only through the traits in [`ports`].
//! Must never depend on an I/O crate (database, broker, HTTP).

pub mod allocation;
pub mod error;
pub mod hold;
pub mod kit;
pub mod ledger;
pub mod movement;
pub mod ports;
pub mod product;
pub mod product_csv;
pub mod replenishment;
pub mod reservations;
pub mod routing;
pub mod service;
pub mod shipping;
pub mod stock;
pub mod transfer;
mod validate;
pub mod valuation;
pub mod warehouse;

pub use error::InventoryError;
pub use movement::{MovementKind, StockMovement};
pub use product::{Dimensions, NewProduct, Product};
pub use product_csv::{ImportedProduct, ProductCsvReader, RowError};
pub use replenishment::{
    DemandHistory, Forecast, ForecastConfig, ForecastMethod, LowStockAlert, ReplenishmentAdvice,
    ReplenishmentPolicy, StockPosition,
};
pub use stock::{StockDelta, StockLevel, StockTotals};
pub use valuation::{AverageCost, InventoryValueReport, ValuationRow};
pub use warehouse::{NewWarehouse, Warehouse};
