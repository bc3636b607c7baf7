//! The errors a command can end with, each mapped to a documented exit code.

use crate::config::ConfigError;
use crate::engine::ScriptDiagnostic;
use crate::engine::playbook::PlaybookError;
use crate::exit::ExitStatus;
use crate::store::StoreError;

/// Why a command could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad usage that clap could not catch (e.g. an `--arg` without `=`).
    #[error("{0}")]
    Usage(String),
    /// The playbook could not be found or read.
    #[error(transparent)]
    Playbook(#[from] PlaybookError),
    /// The playbook (or a module) does not compile or calls unknown functions.
    #[error("{} problem(s) found in {file}", diagnostics.len())]
    Compile {
        /// The playbook.
        file: String,
        /// Every problem.
        diagnostics: Vec<ScriptDiagnostic>,
    },
    /// The state database failed, or a lock is held.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file-system or OS operation failed.
    #[error("{0}")]
    Io(String),
    /// `migration.toml` or a `migrate` request is wrong.
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
}

impl HostError {
    /// The exit code this error ends the process with.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Config(_) | Self::Usage(_) | Self::Playbook(_) | Self::Compile { .. } => {
                ExitStatus::Usage
            }
            Self::Store(StoreError::LockHeld { .. }) => ExitStatus::LockHeld,
            Self::Store(_) | Self::Io(_) => ExitStatus::Internal,
            Self::Migrate(err) => err.exit_status(),
        }
    }

    /// A hint for the operator, when there is an obvious next step.
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Store(StoreError::LockHeld { holder, .. }) => Some(format!(
                "wait for run {} to finish, or stop pid {}; a lock left by a dead process is taken over automatically",
                holder.run_id, holder.process.pid
            )),
            Self::Store(StoreError::LockUnavailable { .. } | StoreError::Unreachable { .. }) => Some(
                "check the network and [state] in orchestra.toml (project, database); `orchestra state status` tries the same connection".into(),
            ),
            Self::Playbook(PlaybookError::NotFound { .. }) => {
                Some("bare names are looked up in the playbooks folder ([paths].playbooks)".into())
            }
            _ => None,
        }
    }
}
