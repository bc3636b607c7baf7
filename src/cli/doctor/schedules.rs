//! Schedules point at playbooks that exist: `[[schedules]]` in orchestra.toml (what the daemon
//! runs) and the crontab lines `orchestra schedule install` wrote.

use std::path::{Path, PathBuf};

use super::context::Context;
use super::finding::Finding;
use crate::engine::playbook::locate;
use crate::schedule::crontab::{self, Crontab, CrontabError};

const NAME: &str = "schedules";

/// The `schedules` finding.
pub fn check(context: &Context) -> Vec<Finding> {
    let config = &context.config;
    let mut broken = Vec::new();
    for schedule in &config.schedules {
        if locate(&schedule.playbook, &config.base_dir, config).is_err() {
            broken.push(format!(
                "[[schedules]] playbook {} not found",
                schedule.playbook
            ));
        }
    }
    let text = match Crontab::choose(None).read() {
        Ok(text) => text,
        Err(CrontabError::NoCrontabCommand) => String::new(),
        Err(err) => {
            return vec![Finding::failed(
                NAME,
                err.to_string(),
                "name a crontab file with ORCHESTRA_CRONTAB, or install cron",
            )];
        }
    };
    let entries = crontab::entries(&text);
    for entry in &entries {
        if let Some(problem) = cron_problem(&entry.command, context) {
            broken.push(format!("crontab {}: {problem}", entry.id));
        }
    }
    let total = config.schedules.len() + entries.len();
    vec![if !broken.is_empty() {
        Finding::failed(
            NAME,
            broken.join("; "),
            "restore the playbook, or `orchestra schedule remove ID` / edit [[schedules]] in orchestra.toml",
        )
    } else if total == 0 {
        Finding::skipped(NAME, "no [[schedules]] and no crontab lines")
    } else {
        Finding::ok(
            NAME,
            format!(
                "{} in orchestra.toml, {} in the crontab, every playbook found",
                config.schedules.len(),
                entries.len()
            ),
        )
    }]
}

/// What is wrong with a crontab command orchestra wrote (`cd DIR && EXE ... play PLAYBOOK`).
fn cron_problem(command: &str, context: &Context) -> Option<String> {
    let words = shell_words(command);
    let dir = words
        .iter()
        .position(|w| w == "cd")
        .and_then(|i| words.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| context.cwd.clone());
    let exe = words
        .iter()
        .position(|w| w == "&&")
        .and_then(|i| words.get(i + 1));
    if let Some(exe) = exe
        && !Path::new(exe).is_file()
    {
        return Some(format!("the orchestra binary {exe} is gone"));
    }
    let playbook = words
        .iter()
        .position(|w| w == "play")
        .and_then(|i| words.get(i + 1))?;
    let found = dir.join(playbook).is_file()
        || locate(playbook, &dir, &context.config).is_ok()
        || ["", ".rhai"].iter().any(|ext| {
            dir.join("playbooks")
                .join(format!("{playbook}{ext}"))
                .is_file()
        });
    (!found).then(|| format!("playbook {playbook} not found from {}", dir.display()))
}

/// Words of a line written with `crontab::shell_quote` (single quotes, `'\''` inside).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' if !quoted => {
                if let Some(next) = chars.next() {
                    word.push(next);
                    in_word = true;
                }
            }
            ' ' | '\t' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::shell_words;

    #[test]
    fn quoted_words_come_back_whole() {
        assert_eq!(
            shell_words("cd '/a b' && '/bin/orc' -q play 'it'\\''s' >> '/l'"),
            vec![
                "cd", "/a b", "&&", "/bin/orc", "-q", "play", "it's", ">>", "/l"
            ]
        );
    }
}
