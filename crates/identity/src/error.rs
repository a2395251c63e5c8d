use kernel::{StoreError, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid request: {0}")]
    Invalid(#[from] ValidationErrors),
    /// Deliberately vague: never say whether a key exists, was revoked or was mistyped.
    #[error("the API key is missing, malformed, unknown or revoked")]
    Unauthenticated,
    #[error(transparent)]
    Store(#[from] StoreError),
}
