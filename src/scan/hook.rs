//! `--install-hook`: a git pre-commit hook that runs `orchestra scan --staged`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::ScanError;

/// The line that marks a hook as orchestra's, so it may be rewritten.
const MARKER: &str = "# installed by orchestra scan --install-hook";

/// Writes the pre-commit hook of the repository at `root`; refuses to replace a hook that
/// orchestra did not write. Returns the hook's path.
pub fn install(root: &Path) -> Result<PathBuf, ScanError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .map_err(|e| ScanError::Git {
            command: "rev-parse".into(),
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(ScanError::Git {
            command: "rev-parse --git-path hooks".into(),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let hooks = root.join(String::from_utf8_lossy(&output.stdout).trim());
    let path = hooks.join("pre-commit");
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.contains(MARKER) => return Err(ScanError::ForeignHook { path }),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ScanError::io("read", &path, &e)),
    }
    std::fs::create_dir_all(&hooks).map_err(|e| ScanError::io("write", &hooks, &e))?;
    let script = format!(
        "#!/bin/sh\n{MARKER}\n# Refuses a commit that adds a credential; see `orchestra scan --help`.\nexec orchestra scan --staged\n"
    );
    std::fs::write(&path, script).map_err(|e| ScanError::io("write", &path, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| ScanError::io("write", &path, &e))?;
    }
    Ok(path)
}
