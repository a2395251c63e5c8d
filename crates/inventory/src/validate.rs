//! Field checks several inventory requests share.

use kernel::{Quantity, ValidationErrors};

/// A quantity of at least one unit, or a problem recorded under `field`.
pub(crate) fn positive_quantity(
    errors: &mut ValidationErrors,
    field: String,
    raw: i64,
) -> Option<Quantity> {
    if raw < 1 {
        errors.add(field, "quantity must be at least 1");
        None
    } else {
        errors.check(field, Quantity::new(raw))
    }
}
