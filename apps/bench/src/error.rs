//! One error type for the whole tool: a message that says what failed and what to do.

use std::fmt::Display;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// Adds what we were doing to an error, so the message reads "seeding SKUs: connection refused".
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| format!("{}: {e}", what()).into())
    }
}

/// Prints a progress line, flushed at once, prefixed so it stands out from other output.
#[macro_export]
macro_rules! progress {
    ($($arg:tt)*) => {{
        eprintln!("[bench] {}", format_args!($($arg)*));
    }};
}
