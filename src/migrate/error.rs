//! What can go wrong with a migration before or around its playbooks.

use std::path::PathBuf;

use crate::exit::ExitStatus;

/// A failure of `orchestra migrate` itself (a failing phase is an outcome, not this).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// `migration.toml` could not be read.
    #[error("cannot read {}: {reason}", file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// `migration.toml` is malformed.
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Where (line:column or field) and what was expected.
        message: String,
    },
    /// A phase named on the command line is not in the file.
    #[error("there is no phase '{name}' in this migration (phases: {known})")]
    NoSuchPhase {
        /// The name given.
        name: String,
        /// The phases there are.
        known: String,
    },
    /// A phase asked for cannot run before the phases it depends on.
    #[error("phase {phase} depends on {dependency}, which is {status}: execute or skip it first")]
    Blocked {
        /// The phase asked for.
        phase: String,
        /// The dependency that is not done.
        dependency: String,
        /// Where the dependency stands.
        status: String,
    },
    /// `migrate init` would overwrite a file.
    #[error("{} exists already: remove it or pass --force", file.display())]
    Exists {
        /// The file.
        file: PathBuf,
    },
    /// A file could not be written.
    #[error("cannot write {}: {reason}", file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
}

impl MigrateError {
    /// The exit code this error maps to.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Write { .. } => ExitStatus::Internal,
            Self::Unreadable { .. }
            | Self::Invalid { .. }
            | Self::NoSuchPhase { .. }
            | Self::Blocked { .. }
            | Self::Exists { .. } => ExitStatus::Usage,
        }
    }
}
