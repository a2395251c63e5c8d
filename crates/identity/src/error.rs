use kernel::{StoreError, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid request: {0}")]
    Invalid(#[from] ValidationErrors),
    /// Deliberately vague: never say whether a key exists, was revoked or was mistyped.
    #[error("the API key is missing, malformed, unknown or revoked")]
    Unauthenticated,
    /// Deliberately vague: never say whether the email exists or the password was wrong.
    #[error("the email or password is not right, or the account is deactivated")]
    InvalidCredentials,
    #[error("this account uses a second factor: send `totp_code` (or a `recovery_code`)")]
    SecondFactorRequired,
    #[error("the second-factor code is not right")]
    InvalidSecondFactor,
    #[error("the refresh token is unknown, expired, revoked or already used")]
    InvalidRefreshToken,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("a user with this email already exists")]
    DuplicateEmail,
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}
