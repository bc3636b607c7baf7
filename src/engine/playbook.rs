//! Finding a playbook file from what the operator typed, and reading it.
//!
//! `orchestra play rotate_keys.rhai` works from the project folder: a name that is not a file
//! relative to the working directory is looked up in the configured `playbooks/` folder, with
//! `.rhai` added when missing.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Config;

/// The largest playbook or module accepted, in bytes. Rhai cannot be interrupted while it
/// compiles, so the size of what it compiles is what bounds that time (about a second per
/// megabyte in a release build); a runbook is a few kilobytes.
pub const MAX_SOURCE_BYTES: u64 = 1024 * 1024;

/// Reads the script at `path` (already canonical), refusing one over [`MAX_SOURCE_BYTES`]
/// before reading it.
pub fn read_source(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_SOURCE_BYTES {
        return Err(format!(
            "it is {size} bytes, over the {MAX_SOURCE_BYTES}-byte limit for a playbook or module"
        ));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// A playbook read from disk.
#[derive(Debug, Clone)]
pub struct PlaybookSource {
    /// The canonical path.
    pub path: PathBuf,
    /// The path shown in messages (relative to the working directory when below it).
    pub shown: String,
    /// The source text.
    pub text: String,
    /// SHA-256 of the text, hex.
    pub hash: String,
}

/// Why a playbook could not be found or read.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    /// No file matched.
    #[error("playbook '{name}' not found (looked for {tried})")]
    NotFound {
        /// What was asked for.
        name: String,
        /// The paths tried.
        tried: String,
    },
    /// The file could not be read.
    #[error("cannot read playbook {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
}

/// Finds the playbook `name` from `cwd`, then in the configured playbooks folder.
pub fn locate(name: &str, cwd: &Path, config: &Config) -> Result<PathBuf, PlaybookError> {
    let direct = cwd.join(name);
    let mut tried = vec![direct.clone()];
    if direct.is_file() {
        return Ok(direct);
    }
    let dir = config.playbooks_dir();
    let mut candidates = vec![dir.join(name)];
    if Path::new(name).extension().is_none() {
        candidates.push(dir.join(format!("{name}.rhai")));
    }
    for candidate in candidates {
        if candidate.is_file() {
            return Ok(candidate);
        }
        tried.push(candidate);
    }
    Err(PlaybookError::NotFound {
        name: name.to_owned(),
        tried: tried
            .iter()
            .map(|p| display_path(p))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Reads the playbook at `path`.
pub fn read(path: &Path) -> Result<PlaybookSource, PlaybookError> {
    let unreadable = |reason: String| PlaybookError::Unreadable {
        path: path.to_owned(),
        reason,
    };
    let real = std::fs::canonicalize(path).map_err(|e| unreadable(e.to_string()))?;
    let text = read_source(&real).map_err(unreadable)?;
    let hash = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(PlaybookSource {
        shown: display_path(&real),
        path: real,
        text,
        hash,
    })
}

/// A path as people should see it: relative to the working directory when below it.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    match cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()) {
        Some(relative) => relative.display().to_string(),
        None => path.display().to_string(),
    }
}
