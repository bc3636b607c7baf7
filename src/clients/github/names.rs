//! The names GitHub calls take, parsed once at the edge: accounts, repositories, environments,
//! secret names and workflows. A value of these types holds only what GitHub's naming rules
//! allow, so a URL built from them (see `path.rs`) addresses what the name says and nothing else.
//!
//! The rules, from GitHub's documentation and its sign-up validation: a user or organisation
//! login is 1-39 letters, digits and `-`, not starting with `-`; a repository name is 1-100
//! letters, digits and `. - _` (never `.` or `..`); an Actions secret name is letters, digits
//! and `_`, not starting with a digit or `GITHUB_`; an environment name is at most 255
//! characters (it is sent URL-encoded, so it may hold spaces and `/`); a workflow is its file
//! name under `.github/workflows/` or its numeric id.

use std::fmt;

/// A name that does not follow GitHub's rules for its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: expected {expected}, found '{found}'")]
pub struct NameError {
    /// The field: `owner`, `repository`, `environment`, `secret name`, `workflow`, …
    pub field: &'static str,
    /// What the field accepts.
    pub expected: &'static str,
    /// What was given (shortened).
    pub found: String,
}

impl NameError {
    fn new(field: &'static str, expected: &'static str, found: &str) -> Self {
        const SHOWN: usize = 80;
        let mut shown: String = found.chars().take(SHOWN).collect();
        if found.chars().count() > SHOWN {
            shown.push('…');
        }
        Self {
            field,
            expected,
            found: shown.escape_debug().to_string(),
        }
    }
}

const LOGIN_RULE: &str = "1-39 letters, digits and -, not starting with -";

/// A user or organisation login (`acme`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Login(String);

impl Login {
    /// Parses a login for `field` (`owner`, `organisation`).
    pub fn parse(field: &'static str, text: &str) -> Result<Self, NameError> {
        let valid = !text.is_empty()
            && text.len() <= 39
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !text.starts_with('-');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(NameError::new(field, LOGIN_RULE, text))
        }
    }

    /// The login.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A repository's name, without its owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoName(String);

impl RepoName {
    /// Parses a repository name.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let valid = !text.is_empty()
            && text.len() <= 100
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && text != "."
            && text != "..";
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(NameError::new(
                "repository",
                "1-100 letters, digits and - _ . (not . or ..)",
                text,
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoSlug {
    owner: Login,
    name: RepoName,
}

impl RepoSlug {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let Some((owner, name)) = text.split_once('/') else {
            return Err(NameError::new(
                "repository",
                "owner/name (letters, digits, - _ .)",
                text,
            ));
        };
        Ok(Self {
            owner: Login::parse("owner", owner)?,
            name: RepoName::parse(name)?,
        })
    }

    /// The owner (user or organisation).
    pub fn owner(&self) -> &str {
        self.owner.as_str()
    }

    /// The repository name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
}

impl fmt::Display for RepoSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name.as_str())
    }
}

/// An Actions secret name: letters, digits and `_`, not starting with a digit or `GITHUB_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretName(String);

impl SecretName {
    /// Parses a secret name as GitHub accepts it.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let valid = !text.is_empty()
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !text.starts_with(|c: char| c.is_ascii_digit())
            && !text.to_ascii_uppercase().starts_with("GITHUB_");
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(NameError::new(
                "secret name",
                "letters, digits and _ (not starting with a digit or GITHUB_)",
                text,
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A deployment environment's name (`production`, `staging eu`, `review/web`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvironmentName(String);

impl EnvironmentName {
    /// Parses an environment name: 1-255 characters, no control characters, none of `% ? # \`
    /// (the name itself is given, never its URL encoding), and no empty, `.` or `..` part
    /// between slashes, so no server that decodes `%2F` can read it as a way out of the
    /// repository.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let valid = !text.is_empty()
            && text.chars().count() <= 255
            && text.trim() == text
            && !text
                .chars()
                .any(|c| c.is_control() || matches!(c, '%' | '?' | '#' | '\\'))
            && text
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(NameError::new(
                "environment",
                "an environment name of 1-255 characters without control characters, % ? # \\ \
                 or surrounding spaces, and no empty, . or .. part between slashes",
                text,
            ))
        }
    }

    /// The name (unencoded).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A workflow as the dispatch endpoint takes it: its file name or its numeric id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Workflow(String);

impl Workflow {
    /// Parses a workflow file name (`orchestra-export.yml`: letters, digits and `. - _`, ending
    /// `.yml` or `.yaml`, no folder) or a workflow id (digits).
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let id = !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit());
        let file = text.len() <= 255
            && (text.ends_with(".yml") || text.ends_with(".yaml"))
            && !text.starts_with('.')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if id || file {
            Ok(Self(text.to_owned()))
        } else {
            Err(NameError::new(
                "workflow",
                "a workflow file name such as deploy.yml (letters, digits, - _ ., ending .yml \
                 or .yaml, no folder) or a numeric workflow id",
                text,
            ))
        }
    }

    /// The file name or id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
            "acme/..",
            "..%2f/api",
            "-acme/api",
        ] {
            assert!(RepoSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_names_follow_github_rules() {
        assert!(SecretName::parse("GCP_SA_KEY").is_ok());
        for bad in ["", "1KEY", "GITHUB_TOKEN", "github_x", "A-B", "A B", "../X"] {
            assert!(SecretName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn environment_names_may_hold_spaces_and_slashes_but_never_a_way_out() {
        for good in ["production", "staging eu", "review/web-42", "v1..2"] {
            assert!(EnvironmentName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "..",
            ".",
            "../../../repos/evil/x",
            "prod/../../evil",
            "prod/",
            "/prod",
            "a//b",
            "%2e%2e",
            "..%2F..%2Frepos",
            "prod?x=1",
            "prod#x",
            "a\\..\\b",
            "prod\n",
            " prod",
        ] {
            let err = EnvironmentName::parse(bad).unwrap_err();
            assert_eq!(err.field, "environment", "{bad}");
        }
        assert!(EnvironmentName::parse(&"e".repeat(256)).is_err());
    }

    #[test]
    fn workflows_are_file_names_or_ids() {
        for good in ["orchestra-export.yml", "deploy.yaml", "123456"] {
            assert!(Workflow::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../../../../repos/evil/x/actions/workflows/a.yml",
            ".github/workflows/a.yml",
            "a.yml/../b.yml",
            "%2e%2e%2fa.yml",
            "..yml",
            "deploy",
            "a b.yml",
        ] {
            let err = Workflow::parse(bad).unwrap_err();
            assert!(err.to_string().starts_with("workflow: expected"), "{err}");
        }
    }

    #[test]
    fn errors_name_the_field_and_what_is_expected() {
        let err = Login::parse("organisation", "ev/il").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("organisation: expected {LOGIN_RULE}, found 'ev/il'")
        );
    }
}
