//! Shipping adapters: what a parcel needs from the outside world.
//!
//! Owns the documents printed for a parcel ([`label`]: the 4×6 label as PDF with a Code 128
//! barcode and as ZPL II, and the commercial invoice), and [`EasyPost`], an HTTP adapter that
//! implements `warehouse::ShippingCarrier` against the EasyPost v2 API (rates, labels, refunds,
//! tracking across many carriers). With the `fake` feature, [`fake::FakeEasyPost`] is a local,
//! stateful stand-in for that API for tests.
//!
//! Holds no business rule: which rate to buy, when to void and what a tracking status means for
//! an order are decided by the `warehouse` domain and the app.

mod easypost;
pub mod label;
pub mod money;

#[cfg(feature = "fake")]
pub mod fake;

pub use easypost::{
    EasyPost, EasyPostConfig, g_to_tenth_ounces, mm_to_tenth_inches, shipment_body, tracking_status,
};
