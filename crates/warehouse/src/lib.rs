//! The warehouse floor: work that staff do with a handheld scanner.
//!
//! Owns the [`WarehouseTask`] aggregate (pick, pack, put-away, count, QC) with its status rules,
//! and the [`TaskRepository`] port. Pick lists, packing, labels and receiving build on it.
//! Must never depend on an I/O crate, nor on another context's crate.

mod carrier;
pub mod labels;
mod task;

pub use carrier::{
    CarrierError, CustomsLine, LabelDocument, LabelFormat, LabelPurchase, Parcel, Rate,
    RateRequest, RateTable, ServiceBands, ServiceLevel, ShipFrom, ShipTo, ShippingCarrier, Shopped,
    TableRateCarrier, TrackingEvent, TrackingRef, TrackingStatus, WeightBand, Zone,
    is_table_rate_tracking_number, pick_rate, shop_rates, table_rate_tracking_number,
    table_services,
};
pub use task::{TaskError, TaskKind, TaskRepository, TaskStatus, WarehouseTask};
