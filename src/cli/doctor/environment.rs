//! Where orchestra runs, told from the environment variables each platform sets. One function,
//! so a fuller detection (the metadata server, Cloud Workstations) can replace it later.

use serde::Serialize;

/// The kind of machine orchestra runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// A GitHub Actions runner (`GITHUB_ACTIONS=true`).
    GithubActions,
    /// A GitHub Codespace (`CODESPACES=true`).
    Codespaces,
    /// A Cloud Run service or job (`K_SERVICE` or `CLOUD_RUN_JOB`).
    CloudRun,
    /// Some other CI (`CI` set).
    Ci,
    /// A person's machine.
    Local,
}

impl Environment {
    /// How a person names it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::GithubActions => "GitHub Actions",
            Self::Codespaces => "GitHub Codespaces",
            Self::CloudRun => "Cloud Run",
            Self::Ci => "CI",
            Self::Local => "local machine",
        }
    }
}

/// The environment, from `lookup` (the process environment in production).
pub fn detect_with(lookup: impl Fn(&str) -> Option<String>) -> Environment {
    let set = |name: &str| lookup(name).is_some_and(|v| !v.is_empty());
    let is_true = |name: &str| lookup(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if is_true("GITHUB_ACTIONS") {
        Environment::GithubActions
    } else if is_true("CODESPACES") {
        Environment::Codespaces
    } else if set("K_SERVICE") || set("CLOUD_RUN_JOB") {
        Environment::CloudRun
    } else if lookup("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0") {
        Environment::Ci
    } else {
        Environment::Local
    }
}

/// The environment of this process.
pub fn detect() -> Environment {
    detect_with(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Environment {
        detect_with(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn each_platform_is_told_by_its_variables() {
        assert_eq!(with(&[]), Environment::Local);
        assert_eq!(
            with(&[("CI", "true"), ("GITHUB_ACTIONS", "true")]),
            Environment::GithubActions
        );
        assert_eq!(with(&[("CODESPACES", "true")]), Environment::Codespaces);
        assert_eq!(with(&[("K_SERVICE", "api")]), Environment::CloudRun);
        assert_eq!(with(&[("CLOUD_RUN_JOB", "nightly")]), Environment::CloudRun);
        assert_eq!(with(&[("CI", "1")]), Environment::Ci);
        assert_eq!(with(&[("CI", "false")]), Environment::Local);
    }
}
