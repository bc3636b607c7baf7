//! Reading and writing the user's crontab, touching only the lines orchestra marked.
//!
//! Each schedule is one line ending in a marker comment, `# orchestra-schedule:ID`, so it can
//! be found, replaced (installing twice gives one line) and removed, while every other line is
//! kept byte for byte. The crontab is the system one (`crontab -l` / `crontab -`) unless a file
//! is named with `--crontab` or `ORCHESTRA_CRONTAB`, which tests and containers use.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

/// The marker that ends every line orchestra writes.
pub const MARKER: &str = "# orchestra-schedule:";

/// Where the crontab lives.
#[derive(Debug, Clone)]
pub enum Crontab {
    /// The user's crontab, through the `crontab` command.
    System,
    /// A crontab file.
    File(PathBuf),
}

/// Why the crontab could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CrontabError {
    /// No `crontab` command.
    #[error(
        "the crontab command is not available: install cron, or name a crontab file with --crontab or ORCHESTRA_CRONTAB"
    )]
    NoCrontabCommand,
    /// The command or file failed.
    #[error("cannot {action} the crontab: {reason}")]
    Io {
        /// Read or write.
        action: &'static str,
        /// What failed.
        reason: String,
    },
}

/// One schedule line orchestra wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its id (from the marker).
    pub id: String,
    /// The cron expression.
    pub cron: String,
    /// The command cron runs.
    pub command: String,
}

impl Crontab {
    /// The crontab named by `file`, else `ORCHESTRA_CRONTAB`, else the system one.
    pub fn choose(file: Option<&Path>) -> Self {
        match file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("ORCHESTRA_CRONTAB").map(PathBuf::from))
        {
            Some(path) => Self::File(path),
            None => Self::System,
        }
    }

    /// The whole crontab text (empty when there is none yet).
    pub fn read(&self) -> Result<String, CrontabError> {
        let io = |reason: String| CrontabError::Io {
            action: "read",
            reason,
        };
        match self {
            Self::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => Ok(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
                Err(e) => Err(io(format!("{}: {e}", path.display()))),
            },
            Self::System => {
                let output =
                    Command::new("crontab")
                        .arg("-l")
                        .output()
                        .map_err(|e| match e.kind() {
                            std::io::ErrorKind::NotFound => CrontabError::NoCrontabCommand,
                            _ => io(e.to_string()),
                        })?;
                if output.status.success() {
                    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
                } else {
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    // "no crontab for USER" is an empty crontab, not an error.
                    if stderr.contains("no crontab") {
                        Ok(String::new())
                    } else {
                        Err(io(stderr.trim().to_owned()))
                    }
                }
            }
        }
    }

    /// Replaces the whole crontab with `text`.
    pub fn write(&self, text: &str) -> Result<(), CrontabError> {
        let io = |reason: String| CrontabError::Io {
            action: "write",
            reason,
        };
        match self {
            Self::File(path) => {
                let temp = path.with_extension("orchestra-tmp");
                std::fs::write(&temp, text)
                    .and_then(|()| std::fs::rename(&temp, path))
                    .map_err(|e| io(format!("{}: {e}", path.display())))
            }
            Self::System => {
                let mut child = Command::new("crontab")
                    .arg("-")
                    .stdin(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => CrontabError::NoCrontabCommand,
                        _ => io(e.to_string()),
                    })?;
                if let Some(stdin) = child.stdin.as_mut() {
                    stdin
                        .write_all(text.as_bytes())
                        .map_err(|e| io(e.to_string()))?;
                }
                let output = child.wait_with_output().map_err(|e| io(e.to_string()))?;
                if output.status.success() {
                    Ok(())
                } else {
                    Err(io(String::from_utf8_lossy(&output.stderr)
                        .trim()
                        .to_owned()))
                }
            }
        }
    }
}

/// The schedule lines orchestra wrote, in order.
pub fn entries(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Entry> {
    let (body, id) = line.rsplit_once(MARKER)?;
    let body = body.trim_end();
    let fields: Vec<&str> = body.splitn(6, ' ').collect();
    if fields.len() < 6 {
        return None;
    }
    Some(Entry {
        id: id.trim().to_owned(),
        cron: fields[..5].join(" "),
        command: fields[5].to_owned(),
    })
}

/// `text` with the entry `id` set to `cron` + `command` (replacing an existing one in place,
/// else appended). Every other line is kept as it was.
pub fn upsert(text: &str, id: &str, cron: &str, command: &str) -> String {
    let line = format!("{cron} {command} {MARKER}{id}");
    let mut replaced = false;
    let mut out: Vec<String> = Vec::new();
    for existing in text.lines() {
        if parse_line(existing).is_some_and(|e| e.id == id) {
            if !replaced {
                out.push(line.clone());
                replaced = true;
            }
        } else {
            out.push(existing.to_owned());
        }
    }
    if !replaced {
        out.push(line);
    }
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

/// `text` without the entry `id`; None when there was no such entry.
pub fn remove(text: &str, id: &str) -> Option<String> {
    let mut found = false;
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let matches = parse_line(line).is_some_and(|e| e.id == id);
            found |= matches;
            !matches
        })
        .collect();
    if !found {
        return None;
    }
    let mut joined = kept.join("\n");
    if !joined.is_empty() {
        joined.push('\n');
    }
    Some(joined)
}

/// Quotes `text` for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHERS: &str =
        "MAILTO=ops@example.com\n# backups\n0 3 * * * /usr/local/bin/backup --all\n";

    #[test]
    fn upsert_twice_gives_one_line_and_keeps_the_rest() {
        let once = upsert(OTHERS, "hello", "*/15 * * * *", "orchestra play hello");
        let twice = upsert(&once, "hello", "*/5 * * * *", "orchestra play hello");
        assert!(twice.starts_with(OTHERS));
        let ours = entries(&twice);
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0].cron, "*/5 * * * *");
        assert_eq!(ours[0].command, "orchestra play hello");
    }

    #[test]
    fn remove_leaves_other_lines_intact() {
        let with = upsert(OTHERS, "hello", "*/15 * * * *", "orchestra play hello");
        assert_eq!(remove(&with, "hello").unwrap(), OTHERS);
        assert!(remove(OTHERS, "hello").is_none());
    }

    #[test]
    fn quoting_survives_awkward_arguments() {
        assert_eq!(shell_quote("plain-name_1.rhai"), "plain-name_1.rhai");
        assert_eq!(shell_quote("it's here"), r"'it'\''s here'");
        assert_eq!(shell_quote(""), "''");
    }
}
