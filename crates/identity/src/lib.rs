//! Identity and tenancy: who a seller is and how its integrations prove it.
//!
//! Owns [`Tenant`], [`ApiKey`] (stored only as a hash, shown once), self-service
//! [`service::IdentityService::sign_up`] and API-key authentication. Users, roles and JWTs
//! arrive here later. Must never depend on an I/O crate.

pub mod api_key;
pub mod error;
pub mod ports;
pub mod service;
pub mod tenant;

pub use api_key::{ApiKey, ApiKeySecret};
pub use error::IdentityError;
pub use tenant::{NewTenant, Tenant};
