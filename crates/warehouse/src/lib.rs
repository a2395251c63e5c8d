//! The warehouse floor: work that staff do with a handheld scanner.
//!
//! Owns the [`WarehouseTask`] aggregate (pick, pack, put-away, count, QC) with its status rules,
//! and the [`TaskRepository`] port. Pick lists, packing, labels and receiving build on it.
//! Must never depend on an I/O crate, nor on another context's crate.

mod task;

pub use task::{TaskError, TaskKind, TaskRepository, TaskStatus, WarehouseTask};
