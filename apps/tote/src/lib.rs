//! The Tote application: wires the pure domains to their adapters behind an actix-web API.
//!
//! Owns HTTP (routes, DTOs, problem+json errors, authentication), configuration, start-up and
//! the in-process event relay. It holds no business rule: every decision is a use case's.

pub mod access;
pub mod audit;
pub mod auth;
pub mod config;
pub mod consumers;
pub mod dispatch;
pub mod error;
pub mod guard;
pub mod hold_expiry;
pub mod jwt;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod quota;
pub mod relay;
pub mod request_id;
pub mod routes;
pub mod shipping;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;
