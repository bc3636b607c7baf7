//! `--watch`: rerun a playbook whenever it, a module it imported, or `orchestra.toml` is saved.
//!
//! One watcher lives for the whole session, so a save made while a run is in progress is
//! queued, and the rerun starts only after that run finished: a mutation is never cut in half.
//! Folders are watched rather than files, because editors save by writing a new file and
//! renaming it over the old one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

use crate::error::HostError;

/// How long saves are gathered into one rerun.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Calls `iteration` (one run, returning the files it read), then waits for one of those
/// files to change and calls it again, until `cancel` is set.
pub fn watch(
    cancel: &AtomicBool,
    mut iteration: impl FnMut() -> Vec<PathBuf>,
) -> Result<(), HostError> {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(DEBOUNCE, tx)
        .map_err(|e| HostError::Io(format!("cannot watch files: {e}")))?;
    let mut watched_dirs: HashSet<PathBuf> = HashSet::new();
    loop {
        let files: HashSet<PathBuf> = iteration()
            .iter()
            .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()))
            .collect();
        for dir in files.iter().filter_map(|f| f.parent()) {
            if watched_dirs.insert(dir.to_path_buf()) {
                debouncer
                    .watcher()
                    .watch(dir, RecursiveMode::NonRecursive)
                    .map_err(|e| HostError::Io(format!("cannot watch {}: {e}", dir.display())))?;
            }
        }
        eprintln!(
            "watching {} file(s) for changes; Ctrl-C to stop",
            files.len()
        );
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Ok(events)) => {
                    if events.iter().any(|e| is_watched(&e.path, &files)) {
                        break;
                    }
                }
                Ok(Err(err)) => tracing::warn!("file watcher error: {err}"),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
        // Let the editor finish writing, then drop the events that the same save produced.
        std::thread::sleep(DEBOUNCE);
        while rx.try_recv().is_ok() {}
        eprintln!("change detected; running again");
    }
}

fn is_watched(path: &Path, files: &HashSet<PathBuf>) -> bool {
    files.contains(path)
        || std::fs::canonicalize(path)
            .map(|p| files.contains(&p))
            .unwrap_or(false)
}
