//! `[state]`: where run state lives. SQLite (the embedded default, one file per folder) or
//! Firestore (shared by every machine that names the same project, database and prefix).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which store holds runs, the journal and locks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateBackendKind {
    /// The SQLite file `[paths].state_db`.
    #[default]
    Sqlite,
    /// Firestore, shared across machines (locks are leases with fencing tokens).
    Firestore,
}

impl StateBackendKind {
    /// The name used in configuration and status output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Firestore => "firestore",
        }
    }
}

/// `[state]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSettings {
    /// `"sqlite"` (default) or `"firestore"`.
    pub backend: StateBackendKind,
    /// The Google Cloud project of the Firestore database (default `[gcp].project`).
    pub project: Option<String>,
    /// The Firestore database id.
    pub database: String,
    /// The prefix of every collection: `{prefix}_runs`, `{prefix}_locks`, ...
    pub prefix: String,
    /// How long a lock's lease lasts without renewal; the holder renews it every third of
    /// this, and another machine takes the lock over only once it has run out.
    #[serde(
        deserialize_with = "super::duration_from_text",
        serialize_with = "super::duration_to_text"
    )]
    pub lease: Duration,
    /// The name this machine records beside its locks and runs (default: the host name).
    /// Two processes with the same machine name check each other's pid and start time.
    pub machine: Option<String>,
}

impl Default for StateSettings {
    fn default() -> Self {
        Self {
            backend: StateBackendKind::Sqlite,
            project: None,
            database: "(default)".to_owned(),
            prefix: "orchestra".to_owned(),
            lease: Duration::from_secs(30),
            machine: None,
        }
    }
}

impl StateSettings {
    /// Checks what serde cannot: a prefix Firestore accepts in a collection id, a lease of
    /// at least a second, a machine name that is not empty.
    pub fn validate(&self) -> Result<(), String> {
        let prefix_ok = !self.prefix.is_empty()
            && self.prefix.len() <= 100
            && self.prefix.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !prefix_ok {
            return Err(format!(
                "state.prefix: expected lowercase letters, digits and '_' starting with a letter, found '{}'",
                self.prefix
            ));
        }
        if self.lease < Duration::from_secs(1) {
            return Err(format!(
                "state.lease: expected at least 1s, found {}",
                humantime::format_duration(self.lease)
            ));
        }
        if self.machine.as_deref().is_some_and(|m| m.trim().is_empty()) {
            return Err("state.machine: expected a name, found an empty string".to_owned());
        }
        if self.database.is_empty() {
            return Err("state.database: expected a database id such as \"(default)\"".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_with_a_slash_is_refused_with_the_value() {
        let settings = StateSettings {
            prefix: "a/b".into(),
            ..StateSettings::default()
        };
        let err = settings.validate().unwrap_err();
        assert!(
            err.contains("state.prefix") && err.contains("'a/b'"),
            "{err}"
        );
        StateSettings::default().validate().unwrap();
    }
}
