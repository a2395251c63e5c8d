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
