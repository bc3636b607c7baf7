//! What the configured playbooks call, read from their text (and the stdlib modules'), and the
//! Google permissions and GitHub scopes those calls need.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::config::Config;

/// The Google IAM permission each primitive needs on the project.
const GOOGLE: &[(&str, &str, &str)] = &[
    ("secrets", "access", "secretmanager.versions.access"),
    ("secrets", "access_many", "secretmanager.versions.access"),
    ("secrets", "list", "secretmanager.secrets.list"),
    ("secrets", "versions", "secretmanager.versions.list"),
    ("secrets", "aliases", "secretmanager.secrets.get"),
    ("secrets", "create", "secretmanager.secrets.create"),
    ("secrets", "add_version", "secretmanager.versions.add"),
    ("secrets", "set_alias", "secretmanager.secrets.update"),
    ("secrets", "enable", "secretmanager.versions.enable"),
    ("secrets", "disable", "secretmanager.versions.disable"),
    ("secrets", "destroy", "secretmanager.versions.destroy"),
    ("iam", "list_keys", "iam.serviceAccountKeys.list"),
    ("iam", "create_key", "iam.serviceAccountKeys.create"),
    ("iam", "disable_key", "iam.serviceAccountKeys.disable"),
    ("iam", "enable_key", "iam.serviceAccountKeys.enable"),
    ("iam", "delete_key", "iam.serviceAccountKeys.delete"),
    ("budget", "check", "monitoring.timeSeries.list"),
    ("budget", "spend", "monitoring.timeSeries.list"),
];

/// The classic-token scope each GitHub primitive needs.
const GITHUB: &[(&str, &str, &str)] = &[
    ("github", "list_secrets", "repo"),
    ("github", "put_secret", "repo"),
    ("github", "put_secrets", "repo"),
    ("github", "delete_secret", "repo"),
    ("github", "dispatch_workflow", "repo"),
];

/// Modules whose calls reach GitHub.
const GITHUB_MODULES: &[&str] = &["github", "monitor"];

/// The `module::function` calls of the playbooks and stdlib modules.
#[derive(Debug, Default, Clone)]
pub struct Usage {
    calls: BTreeSet<(String, String)>,
    sources: Vec<String>,
    /// The playbook files read.
    pub playbooks: Vec<PathBuf>,
}

impl Usage {
    /// Reads every `*.rhai` under the playbooks and stdlib folders.
    pub fn of_playbooks(config: &Config) -> Self {
        let mut usage = Self::default();
        for (dir, is_playbook) in [(config.playbooks_dir(), true), (config.stdlib_dir(), false)] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
                .collect();
            files.sort();
            for file in files {
                if let Ok(text) = std::fs::read_to_string(&file) {
                    usage.add_source(&text);
                    usage.sources.push(text);
                }
                if is_playbook {
                    usage.playbooks.push(file);
                }
            }
        }
        usage
    }

    fn add_source(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut at = 0;
        while let Some(found) = text[at..].find("::") {
            let sep = at + found;
            let start = (0..sep).rev().take_while(|&i| word(bytes[i])).last();
            let end = (sep + 2..bytes.len())
                .take_while(|&i| word(bytes[i]))
                .last()
                .map(|i| i + 1);
            if let (Some(start), Some(end)) = (start, end) {
                self.calls
                    .insert((text[start..sep].to_owned(), text[sep + 2..end].to_owned()));
            }
            at = sep + 2;
        }
    }

    /// Whether any playbook calls `module::`.
    pub fn calls_module(&self, module: &str) -> bool {
        self.calls.iter().any(|(m, _)| m == module)
    }

    /// Whether any playbook reaches Google Cloud.
    pub fn uses_google(&self) -> bool {
        ["secrets", "iam", "budget", "firestore"]
            .iter()
            .any(|m| self.calls_module(m))
    }

    /// Whether any playbook reaches GitHub.
    pub fn uses_github(&self) -> bool {
        GITHUB_MODULES.iter().any(|m| self.calls_module(m))
    }

    /// Whether any playbook needs Firestore (directly or through `memory::`).
    pub fn uses_firestore(&self) -> bool {
        crate::firestore_emulator::needed_by(&self.sources)
    }

    /// The Google permissions the calls need, sorted, each once.
    pub fn google_permissions(&self) -> Vec<&'static str> {
        needed(&self.calls, GOOGLE)
    }

    /// The classic GitHub token scopes the calls need.
    pub fn github_scopes(&self) -> Vec<&'static str> {
        needed(&self.calls, GITHUB)
    }
}

fn needed(
    calls: &BTreeSet<(String, String)>,
    table: &[(&str, &str, &'static str)],
) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = table
        .iter()
        .filter(|(m, f, _)| calls.contains(&((*m).to_owned(), (*f).to_owned())))
        .map(|(_, _, p)| *p)
        .collect();
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_read_from_the_text() {
        let mut usage = Usage::default();
        usage.add_source("let k = iam::create_key(a);\nsecrets::add_version(\"x\", k.json);\n");
        assert_eq!(
            usage.google_permissions(),
            vec![
                "iam.serviceAccountKeys.create",
                "secretmanager.versions.add"
            ]
        );
        assert!(usage.uses_google());
        assert!(!usage.uses_github());
        usage.add_source("github::put_secret(\"acme/api\", \"X\", v);");
        assert_eq!(usage.github_scopes(), vec!["repo"]);
    }
}
