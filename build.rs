//! Names the commit in `orchestra --version`: `git rev-parse --short HEAD` when the source is a
//! git checkout, nothing when it is not (a tarball, a vendored copy), so the build never fails
//! for want of git.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit()));
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long = match commit {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version,
    };
    println!("cargo:rustc-env=ORCHESTRA_VERSION={long}");
    // Rerun when HEAD moves: a checkout changes HEAD, a commit changes the branch it names.
    let branch = Command::new("git")
        .args(["symbolic-ref", "-q", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned());
    for name in std::iter::once("HEAD".to_owned()).chain(branch) {
        if let Some(git_path) = git_path(&name) {
            println!("cargo:rerun-if-changed={git_path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// Where git keeps `name` for this checkout (worktrees keep HEAD apart from the main one).
fn git_path(name: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--git-path", name])
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    let path = std::path::Path::new(&path);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    absolute.exists().then(|| absolute.display().to_string())
}
