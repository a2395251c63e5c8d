use crate::{CorrelationId, TenantId};

/// Who is asking, on whose behalf, and as part of what: passed to every use case so each change
/// is tenant-scoped and attributable (ledger `actor`, event `correlation_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub tenant_id: TenantId,
    /// e.g. `api_key:<id>` or `user:<id>`.
    pub actor: String,
    pub correlation_id: CorrelationId,
}

impl RequestContext {
    pub fn new(tenant_id: TenantId, actor: impl Into<String>) -> Self {
        Self {
            tenant_id,
            actor: actor.into(),
            correlation_id: CorrelationId::new(),
        }
    }
}
