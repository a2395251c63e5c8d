//! The warehouse floor: work that staff do with a handheld scanner.
//!
//! Owns bin locations with their walk order ([`BinCode`], [`Bin`]), the [`WarehouseTask`]
//! aggregate (pick, pack, put-away, count, QC) and staff queues, pick lists (single-order and
//! batch/wave, scan-to-confirm, short picks), packing (box choice, scan verification, weight),
//! receiving against inbound shipments (ASN) with discrepancies and put-away suggestions, cycle
//! counts with variances and accuracy, and QC checklists with quarantine; plus the ports the
//! SQL adapter implements and the floor use cases built on them. Shipping: the
//! `ShippingCarrier` port, rate shopping, the table-rate carrier, and bought labels with their
//! tracking ([`labels`]).
//! Must never depend on an I/O crate, nor on another context's crate (only `kernel`).

mod carrier;
mod counting;
mod inbound_ports;
mod inbound_service;
pub mod labels;
mod location;
mod packing;
mod pick_plan;
mod picking;
mod ports;
mod qc;
mod receiving;
mod service;
mod task;
mod wave;

pub use carrier::{
    CarrierError, CustomsLine, LabelDocument, LabelFormat, LabelPurchase, Parcel, Rate,
    RateRequest, RateTable, ServiceBands, ServiceLevel, ShipFrom, ShipTo, ShippingCarrier, Shopped,
    TableRateCarrier, TrackingEvent, TrackingRef, TrackingStatus, WeightBand, Zone,
    is_table_rate_tracking_number, pick_rate, shop_rates, table_rate_tracking_number,
    table_services,
};
pub use counting::{Accuracy, CountError, CountStatus, CycleCount, Variance, accuracy};
pub use inbound_ports::{
    FloorWarehouse, IdempotencyClaim, IdempotencyKey, InboundTransaction, InboundUnitOfWork,
    Inspection, PutAwayTask, QuarantineRecord, StockEffectError,
};
pub use inbound_service::{
    ClosedInbound, DailyAccuracy, InboundError, InboundService, InboundView, InspectCmd,
    InspectionOutcome, NewInbound, ReceiveScan, discrepancies_of,
};
pub use location::{Bin, BinCode, BinCodeError, PutAwayError, check_put_away, sort_by_walk};
pub use packing::{
    BoxType, ItemDims, PackError, PackItem, PackProgress, PackSession, PackStatus, choose_box,
};
pub use pick_plan::{BinStock, PickableOrder, plan_batch, plan_groups, plan_single};
pub use picking::{
    Allocation, AppliedScan, PickError, PickEvent, PickLine, PickList, PickStatus, Scan,
    ScanOutcome, Shortage, Unallocated,
};
pub use ports::{BinStockReader, FloorTransaction, FloorUnitOfWork};
pub use qc::{QcChecklist, QcError, QcOutcome, QcResult, QcStage, Quarantine, QuarantineStatus};
pub use receiving::{
    Discrepancy, InboundClosed, InboundLine, InboundShipment, InboundStatus, PutAway, ReceiveError,
    ReceiveProgress,
};
pub use service::{FloorError, PackingService, PickingService, Planned};
pub use task::{TaskError, TaskKind, TaskRepository, TaskStatus, WarehouseTask, claim_next};
pub use wave::{Wave, group_waves, group_waves_in};
