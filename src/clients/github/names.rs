//! The names GitHub calls take, parsed once at the edge: repositories, secret names, and
//! where a secret lives.

use std::fmt;

/// `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoSlug {
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository name.
    pub name: String,
}

fn valid_owner(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 39
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !text.starts_with('-')
}

fn valid_repo(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && text != "."
        && text != ".."
}

impl RepoSlug {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once('/') {
            Some((owner, name)) if valid_owner(owner) && valid_repo(name) => Ok(Self {
                owner: owner.to_owned(),
                name: name.to_owned(),
            }),
            _ => Err(format!(
                "expected a repository as owner/name (letters, digits, - _ .), found '{text}'"
            )),
        }
    }
}

impl fmt::Display for RepoSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// An Actions secret name: letters, digits and `_`, not starting with a digit or `GITHUB_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretName(String);

impl SecretName {
    /// Parses a secret name as GitHub accepts it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid = !text.is_empty()
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !text.starts_with(|c: char| c.is_ascii_digit())
            && !text.to_ascii_uppercase().starts_with("GITHUB_");
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "expected a secret name of letters, digits and _ (not starting with a digit or GITHUB_), found '{text}'"
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an Actions secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretScope {
    /// A repository's secrets.
    Repo(RepoSlug),
    /// An environment's secrets in a repository.
    Environment(RepoSlug, String),
    /// An organisation's secrets, with the visibility new secrets get.
    Org {
        /// The organisation.
        org: String,
        /// `all`, `private` or `selected`.
        visibility: String,
    },
}

impl SecretScope {
    /// The REST path of the secrets collection.
    pub fn secrets_path(&self) -> String {
        match self {
            Self::Repo(repo) => format!("/repos/{}/{}/actions/secrets", repo.owner, repo.name),
            Self::Environment(repo, env) => format!(
                "/repos/{}/{}/environments/{}/secrets",
                repo.owner, repo.name, env
            ),
            Self::Org { org, .. } => format!("/orgs/{org}/actions/secrets"),
        }
    }

    /// The owner whose scope rules apply.
    pub fn owner(&self) -> &str {
        match self {
            Self::Repo(repo) | Self::Environment(repo, _) => &repo.owner,
            Self::Org { org, .. } => org,
        }
    }
}

impl fmt::Display for SecretScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Repo(repo) => write!(f, "{repo}"),
            Self::Environment(repo, env) => write!(f, "{repo} environment {env}"),
            Self::Org { org, .. } => write!(f, "org {org}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_slugs_parse_and_refuse() {
        assert_eq!(RepoSlug::parse("acme/api").unwrap().to_string(), "acme/api");
        for bad in [
            "acme",
            "/api",
            "acme/",
            "ac me/api",
            "acme/../x",
            "acme/a/b",
        ] {
            assert!(RepoSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_names_follow_github_rules() {
        assert!(SecretName::parse("GCP_SA_KEY").is_ok());
        for bad in ["", "1KEY", "GITHUB_TOKEN", "github_x", "A-B", "A B"] {
            assert!(SecretName::parse(bad).is_err(), "{bad}");
        }
    }
}
