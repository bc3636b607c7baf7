//! Why a scan could not be done. No variant carries a matched value.

use std::path::PathBuf;

/// Why a scan failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rules file or `[scan]` entry does not parse or names a bad regex.
    #[error("bad scan rules in {origin}: {reason}")]
    Rules {
        /// Where the rules came from (a file, or `[scan]`).
        origin: String,
        /// What was expected and found.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {reason}")]
    Io {
        /// What was being done ("read", "write").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        reason: String,
    },
    /// `git` failed or is missing.
    #[error("git {command} failed: {reason}")]
    Git {
        /// The git subcommand.
        command: String,
        /// Its stderr, or why it could not start.
        reason: String,
    },
    /// A baseline file is not what `--write-baseline` writes.
    #[error("bad baseline {path}: {reason}")]
    Baseline {
        /// The file.
        path: PathBuf,
        /// What was expected.
        reason: String,
    },
    /// `--install-hook` found a pre-commit hook it did not write.
    #[error(
        "{path} exists and was not written by orchestra; add `orchestra scan --staged` to it by hand"
    )]
    ForeignHook {
        /// The hook file.
        path: PathBuf,
    },
    /// The fingerprint key could not be loaded.
    #[error(transparent)]
    Key(#[from] crate::secret::FingerprintKeyError),
}

impl ScanError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_owned(),
            reason: err.to_string(),
        }
    }
}
