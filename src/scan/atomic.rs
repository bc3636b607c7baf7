//! Whole-file replacement that is never seen half-done: the new text goes to a temporary file
//! in the same folder (same file system), is flushed to disk, takes the old file's permissions,
//! and is renamed over it. A process killed at any point leaves the old file or the new one,
//! and at worst a stray `.orchestra-tmp` file beside it, which the next write replaces.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::ScanError;

/// The temporary file a write of `path` goes through.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.orchestra-tmp"))
}

/// Replaces (or creates) `path` with `text` atomically.
pub fn write(path: &Path, text: &str) -> Result<(), ScanError> {
    let temp = temp_path(path);
    let io = |e: std::io::Error| ScanError::io("write", path, &e);
    {
        let mut file = std::fs::File::create(&temp).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&temp, meta.permissions()).map_err(io)?;
    }
    std::fs::rename(&temp, path).map_err(io)?;
    if let Some(dir) = path.parent().and_then(|d| std::fs::File::open(d).ok()) {
        // The rename is durable once the folder is flushed; a failure here loses nothing.
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        std::fs::write(&path, "A=1\n").unwrap();
        super::write(&path, "A=${A}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "A=${A}\n");
        assert!(!super::temp_path(&path).exists());
    }
}
