use crate::OrderStatus;
use kernel::{OrderId, Quantity, Sku, StoreError, ValidationErrors};

/// A line that could not be fully reserved when backorders were not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub sku: Sku,
    pub requested: Quantity,
    pub available: Quantity,
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("invalid order: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("order {0} not found")]
    NotFound(OrderId),
    #[error("these SKUs are not in the catalogue: {}", list(.0))]
    UnknownSkus(Vec<Sku>),
    #[error("not enough stock and backorders are not allowed: {}", shortages(.0))]
    InsufficientStock(Vec<Shortage>),
    #[error("an order that is {} cannot become {}", .from.as_str(), .to.as_str())]
    IllegalTransition { from: OrderStatus, to: OrderStatus },
    #[error("an order that is {} can no longer be edited: picking has started", .0.as_str())]
    NotEditable(OrderStatus),
    #[error("an order that is {} has nothing shipped to return", .0.as_str())]
    NotReturnable(OrderStatus),
    #[error("a return that is {} cannot become {}", .from.as_str(), .to.as_str())]
    IllegalReturnTransition {
        from: crate::returns::ReturnStatus,
        to: crate::returns::ReturnStatus,
    },
    #[error("return {0} not found")]
    ReturnNotFound(kernel::ReturnId),
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyKeyReused,
    #[error("order was changed by someone else; reload and retry")]
    VersionConflict,
    /// Adapter signal: the `(channel, external_id)` pair exists. The use case answers with the
    /// existing order instead.
    #[error("an order with this channel and external id already exists")]
    DuplicateExternalId,
    /// Adapter signal: a concurrent request stored the same Idempotency-Key first.
    #[error("this Idempotency-Key is being used by a concurrent request")]
    DuplicateIdempotencyKey,
    /// Adapter signal from `reserve`.
    #[error("no product with SKU {0}")]
    UnknownSku(Sku),
    #[error("no reservation hold {0}")]
    HoldNotFound(kernel::HoldId),
    #[error("{0}")]
    HoldUnusable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(skus: &[Sku]) -> String {
    skus.iter().map(Sku::as_str).collect::<Vec<_>>().join(", ")
}

fn shortages(s: &[Shortage]) -> String {
    s.iter()
        .map(|s| {
            format!(
                "{} (wanted {}, available {})",
                s.sku, s.requested, s.available
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
