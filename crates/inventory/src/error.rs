use kernel::{Quantity, Sku, StoreError, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("invalid request: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("no product with SKU {0}")]
    UnknownSku(Sku),
    #[error("a product with SKU {0} already exists")]
    DuplicateSku(Sku),
    #[error("stock for {sku} is at version {actual}, not {expected}; reload and retry")]
    VersionMismatch {
        sku: Sku,
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
    #[error(transparent)]
    Store(#[from] StoreError),
}
