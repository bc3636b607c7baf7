//! `[sync]` and `[[sync.secrets]]`: which Secret Manager secrets `playbooks/sync_secrets.rhai`
//! keeps in step with which GitHub Actions secrets, and where.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::clients::github::{RepoSlug, SecretName, SecretScope};

/// The sync mapping and the export workflow's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// The git ref the export workflow is dispatched on (github-to-gcp).
    pub export_ref: String,
    /// One entry per Secret Manager secret and the GitHub secret it becomes.
    pub secrets: Vec<SyncMapping>,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            export_ref: "main".into(),
            secrets: Vec::new(),
        }
    }
}

/// One `[[sync.secrets]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncMapping {
    /// The Secret Manager secret: an id in `[gcp].project` or `projects/P/secrets/ID`.
    pub gcp: String,
    /// The GitHub Actions secret name.
    pub github: String,
    /// Where the GitHub secret lives: `owner/repo`, `owner/repo:environment`, `org:NAME`.
    pub targets: Vec<String>,
    /// The repository whose export workflow reads an organisation target (github-to-gcp);
    /// repository and environment targets export from their own repository.
    #[serde(default)]
    pub export_repo: Option<String>,
}

fn check_target(text: &str) -> Result<(), String> {
    SecretScope::parse(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Whether `location` is a Google Cloud region as a resource name carries it (`us-east1`,
/// `europe-west4`): a regional secret's `projects/P/locations/L/secrets/ID`.
pub fn valid_location(location: &str) -> bool {
    location.len() <= 63
        && location
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
        && location
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

fn check_gcp(text: &str) -> Result<(), String> {
    let id = match text.strip_prefix("projects/") {
        Some(rest) => match rest.split('/').collect::<Vec<_>>().as_slice() {
            [project, "secrets", id] if !project.is_empty() => *id,
            [project, "locations", location, "secrets", id]
                if !project.is_empty() && valid_location(location) =>
            {
                *id
            }
            _ => {
                return Err(format!(
                    "expected a secret id, projects/PROJECT/secrets/ID or projects/PROJECT/locations/LOCATION/secrets/ID, found '{text}'"
                ));
            }
        },
        None => text,
    };
    let valid = !id.is_empty()
        && id.len() <= 255
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "a secret id is 1-255 letters, digits, - and _, found '{id}'"
        ))
    }
}

impl SyncMapping {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        check_gcp(&self.gcp).map_err(|e| ("gcp", e))?;
        SecretName::parse(&self.github).map_err(|e| ("github", e.to_string()))?;
        if self.targets.is_empty() {
            return Err(("targets", "expected at least one target".into()));
        }
        for target in &self.targets {
            check_target(target).map_err(|e| ("targets", e))?;
        }
        if let Some(repo) = &self.export_repo {
            RepoSlug::parse(repo).map_err(|e| ("export_repo", e.to_string()))?;
        }
        Ok(())
    }
}

impl SyncSettings {
    /// Checks every entry, and that no two entries write the same GitHub secret; an error
    /// names `sync.secrets[i]` and the field.
    pub fn validate(&self) -> Result<(), String> {
        let mut written = BTreeSet::new();
        for (index, mapping) in self.secrets.iter().enumerate() {
            mapping
                .validate()
                .map_err(|(field, e)| format!("sync.secrets[{index}].{field}: {e}"))?;
            for target in &mapping.targets {
                let key = (
                    target.to_ascii_lowercase(),
                    mapping.github.to_ascii_uppercase(),
                );
                if !written.insert(key) {
                    return Err(format!(
                        "sync.secrets[{index}].github: {} in {target} is already written by an earlier entry",
                        mapping.github
                    ));
                }
            }
        }
        if self.export_ref.is_empty() {
            return Err("sync.export_ref: expected a branch or tag, found an empty string".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(gcp: &str, github: &str, targets: &[&str]) -> SyncMapping {
        SyncMapping {
            gcp: gcp.into(),
            github: github.into(),
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
            export_repo: None,
        }
    }

    fn settings(secrets: Vec<SyncMapping>) -> SyncSettings {
        SyncSettings {
            secrets,
            ..SyncSettings::default()
        }
    }

    #[test]
    fn a_good_mapping_passes() {
        let ok = settings(vec![
            mapping(
                "db-password",
                "DATABASE_PASSWORD",
                &["acme/api", "acme/api:production"],
            ),
            mapping("projects/p/secrets/token", "TOKEN", &["org:acme"]),
        ]);
        assert_eq!(ok.validate(), Ok(()));
    }

    #[test]
    fn a_bad_field_names_the_entry_and_field() {
        let bad = settings(vec![
            mapping("db", "DB", &["acme/api"]),
            mapping("db", "DB", &["acme"]),
        ]);
        let err = bad.validate().unwrap_err();
        assert!(err.starts_with("sync.secrets[1].targets: "), "{err}");
        let bad = settings(vec![mapping("db", "GITHUB_TOKEN", &["acme/api"])]);
        assert!(
            bad.validate()
                .unwrap_err()
                .starts_with("sync.secrets[0].github: ")
        );
        let bad = settings(vec![mapping("projects/p/db", "DB", &["acme/api"])]);
        assert!(
            bad.validate()
                .unwrap_err()
                .starts_with("sync.secrets[0].gcp: ")
        );
    }

    #[test]
    fn two_entries_writing_one_github_secret_are_refused() {
        let bad = settings(vec![
            mapping("a", "DB", &["acme/api"]),
            mapping("b", "db", &["acme/api"]),
        ]);
        let err = bad.validate().unwrap_err();
        assert!(
            err.contains("sync.secrets[1].github: db in acme/api is already written"),
            "{err}"
        );
    }
}
