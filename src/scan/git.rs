//! History and staged scans through the `git` binary: `git log -p -U0` (or `git diff
//! --cached -U0`) is parsed for added lines only, grouped per commit and file.
//!
//! A `git` subprocess rather than gix: every machine that has a repository has git, and gix
//! with diffing would add some 100 crates to the build for one read-only stream.

use std::path::Path;
use std::process::Command;

use super::error::ScanError;
use super::finding::{Finding, ScanStats};
use super::matcher::{Matcher, Source};

/// Marks a commit header in the log stream; NUL never starts a diff line.
const COMMIT_MARK: &str = "\u{0}commit ";

/// The added lines of one file in one commit.
#[derive(Debug, Default)]
struct Added {
    commit: Option<String>,
    path: Option<String>,
    text: String,
    lines: Vec<u32>,
}

fn run_git(root: &Path, args: &[&str]) -> Result<String, ScanError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .output()
        .map_err(|e| ScanError::Git {
            command: args.first().copied().unwrap_or("").to_owned(),
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(ScanError::Git {
            command: args.join(" "),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The text of `path` as `commit` has it (`None`: as the index has it).
pub fn show_file(root: &Path, commit: Option<&str>, path: &str) -> Result<String, ScanError> {
    let spec = format!("{}:{path}", commit.unwrap_or(""));
    run_git(root, &["show", "--no-textconv", &spec])
}

/// Scans every line each commit added, newest first; `since` limits it to `since..HEAD`.
pub fn scan_history(
    root: &Path,
    matcher: &Matcher,
    since: Option<&str>,
) -> Result<(Vec<Finding>, ScanStats), ScanError> {
    let range = since.map(|rev| format!("{rev}..HEAD"));
    let mut args = vec![
        "log",
        "-p",
        "-U0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-renames",
        "--format=%x00commit %H",
    ];
    if let Some(range) = &range {
        args.push(range);
    }
    let log = run_git(root, &args)?;
    Ok(scan_patch(&log, matcher))
}

/// Scans the lines added in the index relative to HEAD (what `git commit` would record).
pub fn scan_staged(root: &Path, matcher: &Matcher) -> Result<(Vec<Finding>, ScanStats), ScanError> {
    let diff = run_git(
        root,
        &[
            "diff",
            "--cached",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
        ],
    )?;
    Ok(scan_patch(&diff, matcher))
}

/// Parses a `-U0` patch stream and scans the added lines of each file.
fn scan_patch(patch: &str, matcher: &Matcher) -> (Vec<Finding>, ScanStats) {
    let mut findings = Vec::new();
    let mut stats = ScanStats::default();
    let mut current = Added::default();
    let mut commit: Option<String> = None;
    let mut remaining = 0u32;
    let mut next_line = 0u32;
    let flush = |added: &mut Added, findings: &mut Vec<Finding>, stats: &mut ScanStats| {
        if let Some(path) = &added.path
            && !added.lines.is_empty()
        {
            if matcher.path_allowed(path) {
                stats.skipped_allowlisted += 1;
            } else {
                stats.files_scanned += 1;
                stats.bytes_scanned += added.text.len() as u64;
                findings.extend(matcher.scan(
                    Source {
                        path,
                        commit: added.commit.as_deref(),
                        line_numbers: Some(&added.lines),
                    },
                    &added.text,
                ));
            }
        }
        *added = Added {
            commit: added.commit.take(),
            ..Added::default()
        };
    };
    for line in patch.lines() {
        if remaining > 0 {
            if let Some(content) = line.strip_prefix('+') {
                current.text.push_str(content);
                current.text.push('\n');
                current.lines.push(next_line);
                next_line += 1;
                remaining -= 1;
            }
            // `-` lines and "\ No newline" do not count against the new side.
            continue;
        }
        if let Some(sha) = line.strip_prefix(COMMIT_MARK) {
            flush(&mut current, &mut findings, &mut stats);
            commit = Some(sha.trim().to_owned());
            current.commit.clone_from(&commit);
        } else if line.starts_with("diff --git ") {
            flush(&mut current, &mut findings, &mut stats);
            current.commit.clone_from(&commit);
        } else if let Some(path) = line.strip_prefix("+++ ") {
            current.path = path.strip_prefix("b/").map(str::to_owned);
        } else if line.starts_with("@@ ") {
            if let Some((start, count)) = new_side(line) {
                next_line = start;
                remaining = count;
            }
        } else if line.starts_with("Binary files ") {
            stats.skipped_binary += 1;
        }
    }
    flush(&mut current, &mut findings, &mut stats);
    (findings, stats)
}

/// `@@ -a,b +c,d @@` → (c, d); a missing count means 1.
fn new_side(header: &str) -> Option<(u32, u32)> {
    let plus = header.split(' ').find(|part| part.starts_with('+'))?;
    let mut numbers = plus[1..].splitn(2, ',');
    let start = numbers.next()?.parse().ok()?;
    let count = match numbers.next() {
        Some(count) => count.parse().ok()?,
        None => 1,
    };
    Some((start, count))
}

#[cfg(test)]
mod tests {
    use super::new_side;

    #[test]
    fn hunk_headers_give_the_new_side() {
        assert_eq!(new_side("@@ -0,0 +1,3 @@"), Some((1, 3)));
        assert_eq!(new_side("@@ -4 +5 @@ fn x"), Some((5, 1)));
        assert_eq!(new_side("@@ -4,2 +3,0 @@"), Some((3, 0)));
    }
}
