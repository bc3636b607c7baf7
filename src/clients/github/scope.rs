//! Where Actions secrets live (`owner/repo`, `owner/repo:environment`, `org:NAME`), and the
//! GitHub part of `[scope]`, checked on the path a request actually sends: the repository or
//! organisation is read back from the built URL, never taken from the unparsed input.

use std::fmt;

use super::names::{EnvironmentName, Login, NameError, RepoName, RepoSlug};
use super::path::ApiPath;

/// Where an Actions secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretScope {
    /// A repository's secrets.
    Repo(RepoSlug),
    /// An environment's secrets in a repository.
    Environment(RepoSlug, EnvironmentName),
    /// An organisation's secrets (new ones are visible to private repositories).
    Org(Login),
}

impl SecretScope {
    /// Parses a target: `owner/repo`, `owner/repo:environment` or `org:NAME`.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        if let Some(org) = text.strip_prefix("org:") {
            return Login::parse("organisation", org).map(Self::Org);
        }
        match text.split_once(':') {
            Some((repo, environment)) => Ok(Self::Environment(
                RepoSlug::parse(repo)?,
                EnvironmentName::parse(environment)?,
            )),
            None => RepoSlug::parse(text).map(Self::Repo),
        }
    }

    /// The REST path of the secrets collection.
    pub fn secrets_path(&self) -> ApiPath {
        match self {
            Self::Repo(repo) => repo_path(repo).word("actions").word("secrets"),
            Self::Environment(repo, environment) => repo_path(repo)
                .word("environments")
                .name(environment.as_str())
                .word("secrets"),
            Self::Org(org) => ApiPath::of(&["orgs"])
                .name(org.as_str())
                .word("actions")
                .word("secrets"),
        }
    }

    /// The visibility new secrets get (organisation secrets only).
    pub fn visibility(&self) -> Option<&'static str> {
        matches!(self, Self::Org(_)).then_some("private")
    }
}

/// `/repos/OWNER/NAME`.
pub fn repo_path(repo: &RepoSlug) -> ApiPath {
    ApiPath::of(&["repos"]).name(repo.owner()).name(repo.name())
}

impl fmt::Display for SecretScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Repo(repo) => write!(f, "{repo}"),
            Self::Environment(repo, env) => write!(f, "{repo} environment {env}"),
            Self::Org(org) => write!(f, "org {org}"),
        }
    }
}

/// What a request addresses, read from its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// Something inside a repository (`/repos/OWNER/NAME/...`).
    Repo(RepoSlug),
    /// Something inside an organisation (`/orgs/ORG/...`).
    Org(Login),
    /// The credential's own resources (`/rate_limit`, `/user`, `/installation/...`,
    /// `/app/...`, `/credentials/revoke`): no repository or organisation.
    Credential,
}

/// A path orchestra refuses to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to send GitHub path {path}: {reason}")]
pub struct PathRefused {
    /// The path (names in it are GitHub names, never secret values).
    pub path: String,
    /// Why.
    pub reason: String,
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = segment.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads what `path` (as sent, query included) addresses. Refuses a path that is not
/// absolute, has an empty, `.` or `..` segment (also once `%`-decoded, also between decoded
/// slashes), a backslash, or a first word orchestra never calls.
pub fn addressed(path: &str) -> Result<Addressed, PathRefused> {
    let refuse = |reason: &str| PathRefused {
        path: path.chars().take(200).collect(),
        reason: reason.to_owned(),
    };
    let route = path.split(['?', '#']).next().unwrap_or_default();
    let Some(route) = route.strip_prefix('/') else {
        return Err(refuse("it is not a path below the API URL"));
    };
    let mut segments = Vec::new();
    for raw in route.split('/') {
        let decoded = percent_decode(raw).ok_or_else(|| refuse("it has a broken % escape"))?;
        let escapes = decoded
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
        if escapes || decoded.contains('\\') {
            return Err(refuse("it has an empty, . or .. segment"));
        }
        segments.push(decoded);
    }
    let names = |i: usize| segments.get(i).map(String::as_str).unwrap_or_default();
    let bad_name = |e: NameError| refuse(&e.to_string());
    match names(0) {
        "repos" => {
            let owner = Login::parse("owner", names(1)).map_err(bad_name)?;
            let name = RepoName::parse(names(2)).map_err(bad_name)?;
            let slug = RepoSlug::parse(&format!("{owner}/{}", name.as_str())).map_err(bad_name)?;
            Ok(Addressed::Repo(slug))
        }
        "orgs" => Login::parse("organisation", names(1))
            .map(Addressed::Org)
            .map_err(bad_name),
        "rate_limit" | "user" | "installation" | "app" | "credentials" => Ok(Addressed::Credential),
        _ => Err(refuse("orchestra calls no such GitHub endpoint")),
    }
}

/// The GitHub part of `[scope]`: owners whose every repository is allowed, and single
/// repositories.
#[derive(Debug, Clone, Default)]
pub struct GithubScope {
    owners: Vec<String>,
    repos: Vec<String>,
}

impl GithubScope {
    /// From `[scope].github_owners` and `[scope].github_repos`.
    pub fn new(owners: &[String], repos: &[String]) -> Self {
        Self {
            owners: owners.to_vec(),
            repos: repos.to_vec(),
        }
    }

    /// Checks what `path` addresses; the error says what to add to orchestra.toml.
    pub fn check_path(&self, path: &str) -> Result<Addressed, String> {
        let addressed = addressed(path).map_err(|e| e.to_string())?;
        self.check(&addressed)?;
        Ok(addressed)
    }

    /// Checks `addressed`; the error says what to add to orchestra.toml.
    pub fn check(&self, addressed: &Addressed) -> Result<(), String> {
        let owner_allowed = |owner: &str| self.owners.iter().any(|o| o.eq_ignore_ascii_case(owner));
        match addressed {
            Addressed::Credential => Ok(()),
            Addressed::Repo(repo) => {
                let listed = self
                    .repos
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&repo.to_string()));
                if listed || owner_allowed(repo.owner()) {
                    return Ok(());
                }
                Err(format!(
                    "{repo} is outside the scope: add \"{repo}\" to [scope].github_repos (or \"{}\" to [scope].github_owners) in orchestra.toml",
                    repo.owner()
                ))
            }
            Addressed::Org(org) => {
                if owner_allowed(org.as_str()) {
                    return Ok(());
                }
                Err(format!(
                    "org {org} is outside the scope: add \"{org}\" to [scope].github_owners in orchestra.toml"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> GithubScope {
        GithubScope::new(&["acme".into()], &["other/api".into()])
    }

    #[test]
    fn targets_parse_into_typed_scopes() {
        assert!(matches!(
            SecretScope::parse("acme/api"),
            Ok(SecretScope::Repo(_))
        ));
        assert!(matches!(
            SecretScope::parse("acme/api:production"),
            Ok(SecretScope::Environment(_, _))
        ));
        assert!(matches!(
            SecretScope::parse("org:acme"),
            Ok(SecretScope::Org(_))
        ));
        for bad in [
            "acme",
            "acme/api:",
            "acme/api:../../../repos/evil/x",
            "acme/api:%2e%2e%2F%2e%2e",
            "org:acme/../../repos/evil",
            "org:",
        ] {
            assert!(SecretScope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_environment_with_a_slash_is_one_encoded_segment_of_its_repository() {
        let scope = SecretScope::parse("acme/api:review/web").unwrap();
        let path = scope.secrets_path();
        assert_eq!(
            path.as_str(),
            "/repos/acme/api/environments/review%2Fweb/secrets"
        );
        assert_eq!(
            addressed(path.as_str()),
            Ok(Addressed::Repo(RepoSlug::parse("acme/api").unwrap()))
        );
    }

    #[test]
    fn the_addressed_repository_is_read_from_the_final_path() {
        assert!(
            scope()
                .check_path("/repos/acme/api/actions/secrets")
                .is_ok()
        );
        assert!(
            scope()
                .check_path("/repos/other/api/actions/secrets")
                .is_ok()
        );
        assert!(scope().check_path("/orgs/acme/actions/secrets").is_ok());
        assert!(scope().check_path("/rate_limit").is_ok());
        let err = scope()
            .check_path("/repos/evil/x/actions/secrets/A")
            .unwrap_err();
        assert!(err.starts_with("evil/x is outside the scope"), "{err}");
        let err = scope()
            .check_path("/orgs/evil/actions/secrets")
            .unwrap_err();
        assert!(err.starts_with("org evil is outside the scope"), "{err}");
    }

    #[test]
    fn dot_segments_and_their_encodings_are_refused() {
        for path in [
            "/repos/acme/api/environments/../../../repos/evil/x/secrets",
            "/repos/acme/api/environments/%2e%2e/secrets",
            "/repos/acme/api/environments/..%2F..%2Fevil/secrets",
            "/repos/acme/api/environments/%2E/secrets",
            "/repos/acme/api//secrets",
            "/repos/acme/api/a\\b",
            "/repos/acme/api/environments/%zz",
            "//evil.example/repos/acme/api",
            "https://evil.example/repos/acme/api",
            "/repos/acme%2Fapi/x",
            "/gists/1",
        ] {
            assert!(scope().check_path(path).is_err(), "{path}");
        }
    }
}
