//! Identity and tenancy: who a seller is and how its integrations prove it.
//!
//! Owns [`Tenant`] and its [`Plan`], [`ApiKey`] (stored only as a hash, shown once, with
//! [`Scope`]s), [`User`]s with [`Role`]s, Argon2id [`password`]s, TOTP ([`totp`]), refresh-token
//! rotation with reuse detection ([`token`]), self-service sign-up
//! ([`service::IdentityService`]) and login ([`account::AccountService`]). Signing access tokens
//! is a port ([`token::AccessTokenSigner`]): the app holds the keys. Must never depend on an I/O
//! crate.

pub mod account;
pub mod api_key;
pub mod audit;
pub mod error;
pub mod key_cache;
pub mod password;
pub mod ports;
pub mod role;
pub mod service;
pub mod tenant;
pub mod token;
pub mod totp;
pub mod user;

pub use api_key::{ApiKey, ApiKeySecret};
pub use error::IdentityError;
pub use role::{Area, Grant, Role, Scope};
pub use tenant::{NewTenant, Plan, QuotaExceeded, Tenant};
pub use user::User;
