//! The working-tree walk: ripgrep's parallel walker (`.gitignore` respected, hidden files
//! such as `.env` included, `.git` itself skipped), binary and huge files counted, not read.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::error::ScanError;
use super::finding::{Finding, ScanStats};
use super::matcher::{Matcher, Source};

/// Files larger than this are skipped by default.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// How much of a file's head is checked for a NUL byte to call it binary.
const BINARY_PROBE: usize = 8 * 1024;

#[derive(Default)]
struct Collected {
    findings: Vec<Finding>,
    stats: ScanStats,
    error: Option<ScanError>,
}

/// Scans every file under `root`, in parallel, except under the folders in `skip` (the
/// state folder: its key file is not for reading).
pub fn scan_tree(
    root: &Path,
    matcher: &Matcher,
    max_file_size: u64,
    skip: &[PathBuf],
) -> Result<(Vec<Finding>, ScanStats), ScanError> {
    let collected = Mutex::new(Collected::default());
    let skip = skip.to_vec();
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .threads(threads)
        .filter_entry(move |entry| {
            entry.file_name() != ".git" && !skip.iter().any(|s| s.as_path() == entry.path())
        })
        .build_parallel()
        .run(|| {
            let collected = &collected;
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return WalkState::Continue;
                }
                let relative = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap_or(entry.path())
                    .to_string_lossy()
                    .replace('\\', "/");
                let outcome = scan_file(entry.path(), &relative, matcher, max_file_size);
                let mut guard = collected.lock().unwrap_or_else(|p| p.into_inner());
                match outcome {
                    Ok(FileOutcome::Scanned { findings, bytes }) => {
                        guard.stats.files_scanned += 1;
                        guard.stats.bytes_scanned += bytes;
                        guard.findings.extend(findings);
                    }
                    Ok(FileOutcome::Binary) => guard.stats.skipped_binary += 1,
                    Ok(FileOutcome::Large) => guard.stats.skipped_large += 1,
                    Ok(FileOutcome::Allowlisted) => guard.stats.skipped_allowlisted += 1,
                    Err(err) => {
                        guard.error.get_or_insert(err);
                        return WalkState::Quit;
                    }
                }
                WalkState::Continue
            })
        });
    let collected = collected.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(err) = collected.error {
        return Err(err);
    }
    let mut findings = collected.findings;
    findings.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    Ok((findings, collected.stats))
}

enum FileOutcome {
    Scanned { findings: Vec<Finding>, bytes: u64 },
    Binary,
    Large,
    Allowlisted,
}

fn scan_file(
    path: &Path,
    relative: &str,
    matcher: &Matcher,
    max_file_size: u64,
) -> Result<FileOutcome, ScanError> {
    if matcher.path_allowed(relative) {
        return Ok(FileOutcome::Allowlisted);
    }
    let size = std::fs::metadata(path)
        .map_err(|e| ScanError::io("read", path, &e))?
        .len();
    if size > max_file_size {
        return Ok(FileOutcome::Large);
    }
    let bytes = std::fs::read(path).map_err(|e| ScanError::io("read", path, &e))?;
    if is_binary(&bytes) {
        return Ok(FileOutcome::Binary);
    }
    let text = String::from_utf8_lossy(&bytes);
    let findings = matcher.scan(
        Source {
            path: relative,
            commit: None,
            line_numbers: None,
        },
        &text,
    );
    Ok(FileOutcome::Scanned {
        findings,
        bytes: size,
    })
}

/// A NUL byte near the start marks a file as binary, as git and ripgrep decide it.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_PROBE)].contains(&0)
}
