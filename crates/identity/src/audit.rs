//! The audit log: one append-only record per state-changing call.

use chrono::{DateTime, Utc};
use kernel::TenantId;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// UUIDv7: time-ordered, the pagination key.
    pub id: Uuid,
    /// `None` when the caller was never tied to a tenant (a failed login, a bad key).
    pub tenant_id: Option<TenantId>,
    /// `user:<id>`, `api_key:<id>`, `anonymous`, or `ip:<addr>` for unauthenticated calls.
    pub actor: String,
    /// Method and route pattern, e.g. `POST /api/v1/orders/{id}/cancel`.
    pub action: String,
    /// The concrete path, naming the target (`/api/v1/orders/0190…/cancel`).
    pub target: Option<String>,
    pub request_id: String,
    /// The HTTP status answered.
    pub outcome: u16,
    pub occurred_at: DateTime<Utc>,
}

/// What `GET /api/v1/audit` may filter on; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Matches actions starting with this (e.g. `POST /api/v1/orders`).
    pub action_prefix: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only failures (4xx/5xx) or only successes.
    pub failed: Option<bool>,
}
