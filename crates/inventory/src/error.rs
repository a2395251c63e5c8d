use crate::hold::HoldError;
use crate::transfer::TransferError;
use kernel::{HoldId, Quantity, Sku, StoreError, TransferId, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("invalid request: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("no product with SKU {0}")]
    UnknownSku(Sku),
    #[error("no products with SKUs {}", list(.0))]
    UnknownSkus(Vec<Sku>),
    #[error("a product with SKU {0} already exists")]
    DuplicateSku(Sku),
    #[error("{0} is a kit; a kit's components must be simple products")]
    NestedKit(Sku),
    #[error("{0} is a kit: its stock is its components'; change those instead")]
    KitHasNoStock(Sku),
    #[error("no warehouse with code {0}")]
    UnknownWarehouse(String),
    #[error("a warehouse with code {0} already exists")]
    DuplicateWarehouse(String),
    #[error("{what} is at version {actual}, not {expected}; reload and retry")]
    VersionMismatch {
        what: String,
        expected: i64,
        actual: i64,
    },
    #[error(
        "cannot set on hand of {sku} to {counted}: {reserved} units are reserved for orders; \
         cancel or re-allocate those orders first"
    )]
    BelowReserved {
        sku: Sku,
        counted: Quantity,
        reserved: Quantity,
    },
    #[error("not enough available stock: {}", shortfalls(.0))]
    InsufficientStock(Vec<(Sku, i64)>),
    #[error("no reservation hold {0}")]
    HoldNotFound(HoldId),
    #[error(transparent)]
    Hold(#[from] HoldError),
    #[error("no transfer {0}")]
    TransferNotFound(TransferId),
    #[error(transparent)]
    Transfer(#[from] TransferError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(skus: &[Sku]) -> String {
    skus.iter().map(Sku::as_str).collect::<Vec<_>>().join(", ")
}

fn shortfalls(short: &[(Sku, i64)]) -> String {
    short
        .iter()
        .map(|(sku, n)| format!("{sku} is {n} short"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<crate::reservations::ReserveError> for InventoryError {
    fn from(e: crate::reservations::ReserveError) -> Self {
        use crate::reservations::ReserveError;
        match e {
            ReserveError::UnknownSkus(s) => Self::UnknownSkus(s),
            ReserveError::Insufficient(s) => Self::InsufficientStock(s),
            ReserveError::Store(s) => Self::Store(s),
        }
    }
}
