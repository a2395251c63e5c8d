//! The real app over HTTP. Scenarios that touch the database run on PostgreSQL and SQLite.

mod access_matrix;
mod admin;
mod audit;
mod auth;
mod bad_input;
mod events;
mod floor_inbound;
mod floor_pick;
mod floor_ship;
mod inventory;
mod lifecycle;
mod limits;
mod notifications;
mod orders;
mod returns;
mod shipping;
mod tenancy;
mod walkthrough;
mod webhooks;

pub(crate) use testkit::on_both_databases;

// Label readers shared with the carriers crate's own tests: a PDF's filled rectangles, and a
// Code 128 decoder written from the symbol table.
#[path = "../../crates/carriers/tests/support/code128.rs"]
mod code128;
#[allow(dead_code)] // not every reader is used here
#[path = "../../crates/carriers/tests/support/pdf.rs"]
mod pdf;
