//! How a memory operation fails, as the script and the CLI see it.

use super::key::KEY_SHAPE;

/// A failed memory operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MemoryError {
    /// The key is not of the accepted shape.
    #[error("memory key \"{key}\" is not valid: expected {KEY_SHAPE}, found {found}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What was wrong with it.
        found: String,
    },
    /// The prefix is not the start of a valid key.
    #[error(
        "memory prefix \"{prefix}\" is not valid: expected the start of a key ({KEY_SHAPE}), found {found}"
    )]
    InvalidPrefix {
        /// The prefix as given.
        prefix: String,
        /// What was wrong with it.
        found: String,
    },
    /// The backend answered and refused.
    #[error("memory backend {backend} refused {operation} of {key}: {message}")]
    Refused {
        /// The backend's name.
        backend: &'static str,
        /// What was asked (`store`, `retrieve`, …).
        operation: &'static str,
        /// The key or prefix.
        key: String,
        /// What it said.
        message: String,
    },
    /// The configured backend cannot be built here.
    #[error("{0}")]
    Unavailable(String),
    /// The state database failed.
    #[error("{0}")]
    Store(String),
}

impl From<crate::store::StoreError> for MemoryError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Store(error.to_string())
    }
}
