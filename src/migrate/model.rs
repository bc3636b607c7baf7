//! `migration.toml`: the migration's name and project, and its phases in order (name,
//! description, execute and verify playbooks, what each depends on, the metrics it is expected
//! to record with their targets, and free-form settings its playbooks read).
//!
//! Parsed once at the edge into [`Migration`]; a malformed file fails here with the file,
//! line, column or field, and what was expected. Knows nothing of the store or of running.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::MigrateError;

/// A migration plan, as `migration.toml` declares it.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    /// The migration's name: the key of its state and its lock.
    pub name: String,
    /// The Google Cloud project it moves to.
    pub project: String,
    /// Its phases, in the order they run.
    pub phases: Vec<Phase>,
    /// The file it was read from.
    #[serde(skip)]
    pub file: PathBuf,
}

/// One phase of a migration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Its name, in capitals: `MEMORY_SYSTEM`.
    pub name: String,
    /// What it achieves, in a sentence.
    #[serde(default)]
    pub description: String,
    /// The playbook that does the work (path relative to `migration.toml`).
    pub execute: String,
    /// The playbook that checks it, run in plan mode (path relative to `migration.toml`).
    pub verify: String,
    /// Phases that must be completed, skipped or unknown before this one runs.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The metrics its playbooks are expected to record, with their targets.
    #[serde(default)]
    pub metrics: Vec<MetricTarget>,
    /// Settings its playbooks read with `migration::phase().settings`.
    #[serde(default)]
    pub settings: toml::Table,
}

/// A metric a phase is expected to record, and the range it must fall in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricTarget {
    /// The metric's name.
    pub name: String,
    /// The largest value that meets the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    /// The smallest value that meets the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
}

impl MetricTarget {
    /// Whether `value` meets this target.
    pub fn is_met_by(&self, value: f64) -> bool {
        self.at_most.is_none_or(|most| value <= most)
            && self.at_least.is_none_or(|least| value >= least)
    }

    /// The target in words: `≤ 500`, `≥ 1`, `≥ 1 and ≤ 3`, or `recorded`.
    pub fn describe(&self) -> String {
        match (self.at_least, self.at_most) {
            (Some(least), Some(most)) => format!(">= {least} and <= {most}"),
            (Some(least), None) => format!(">= {least}"),
            (None, Some(most)) => format!("<= {most}"),
            (None, None) => "recorded".to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    migration: Header,
    #[serde(default)]
    phases: Vec<Phase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    project: String,
}

fn is_phase_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

impl Migration {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, MigrateError> {
        let text = std::fs::read_to_string(path).map_err(|e| MigrateError::Unreadable {
            file: path.to_owned(),
            reason: if e.kind() == std::io::ErrorKind::NotFound {
                "it does not exist: write one with `orchestra migrate init --project P`".to_owned()
            } else {
                e.to_string()
            },
        })?;
        Self::parse(&text, path)
    }

    /// Parses `text` (read from `file`) and checks its phases.
    pub fn parse(text: &str, file: &Path) -> Result<Self, MigrateError> {
        let invalid = |message: String| MigrateError::Invalid {
            file: file.to_owned(),
            message,
        };
        let parsed: File = toml::from_str(text).map_err(|e| {
            let place = e
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before
                        .rfind('\n')
                        .map_or(before.len(), |n| before.len() - n - 1)
                        + 1;
                    format!("{line}:{column}: ")
                })
                .unwrap_or_default();
            invalid(format!("{place}{}", e.message()))
        })?;
        let mut seen = HashSet::new();
        for (index, phase) in parsed.phases.iter().enumerate() {
            let field = |name: &str| format!("phases[{index}].{name}");
            if !is_phase_name(&phase.name) {
                return Err(invalid(format!(
                    "{}: expected a phase name in capitals such as MEMORY_SYSTEM, found '{}'",
                    field("name"),
                    phase.name
                )));
            }
            for dependency in &phase.depends_on {
                if !seen.contains(dependency.as_str()) {
                    return Err(invalid(format!(
                        "{}: '{dependency}' is not a phase listed before {}",
                        field("depends_on"),
                        phase.name
                    )));
                }
            }
            if !seen.insert(phase.name.as_str()) {
                return Err(invalid(format!(
                    "{}: phase {} is listed twice",
                    field("name"),
                    phase.name
                )));
            }
            for (m, metric) in phase.metrics.iter().enumerate() {
                if metric.name.is_empty() {
                    return Err(invalid(format!(
                        "{}: expected a metric name",
                        field(&format!("metrics[{m}].name"))
                    )));
                }
            }
        }
        if parsed.migration.name.trim().is_empty() {
            return Err(invalid("migration.name: expected a name".to_owned()));
        }
        Ok(Self {
            name: parsed.migration.name,
            project: parsed.migration.project,
            phases: parsed.phases,
            file: file.to_owned(),
        })
    }

    /// The phase called `name`.
    pub fn phase(&self, name: &str) -> Result<&Phase, MigrateError> {
        self.phases
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| MigrateError::NoSuchPhase {
                name: name.to_owned(),
                known: self
                    .phases
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Where a playbook path of this file points.
    pub fn playbook_path(&self, relative: &str) -> PathBuf {
        self.file
            .parent()
            .map_or_else(|| PathBuf::from(relative), |dir| dir.join(relative))
    }

    /// Every metric target of every phase, with the phase that declares it.
    pub fn targets(&self) -> impl Iterator<Item = (&Phase, &MetricTarget)> {
        self.phases
            .iter()
            .flat_map(|phase| phase.metrics.iter().map(move |metric| (phase, metric)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[migration]
name = "demo"
project = "demo-project"

[[phases]]
name = "A"
execute = "a.rhai"
verify = "a_verify.rhai"
metrics = [{ name = "latency_ms", at_most = 500.0 }]

[[phases]]
name = "B"
execute = "b.rhai"
verify = "b_verify.rhai"
depends_on = ["A"]
settings = { apis = ["run.googleapis.com"] }
"#;

    #[test]
    fn a_good_file_parses_with_its_phases_in_order() {
        let migration = Migration::parse(GOOD, Path::new("migration.toml")).unwrap();
        assert_eq!(migration.name, "demo");
        let names: Vec<_> = migration.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert!(migration.phases[1].settings.contains_key("apis"));
        assert_eq!(migration.targets().count(), 1);
    }

    #[test]
    fn a_dependency_on_a_later_or_missing_phase_names_the_field() {
        let text = GOOD.replace(r#"depends_on = ["A"]"#, r#"depends_on = ["C"]"#);
        let err = Migration::parse(&text, Path::new("m.toml")).unwrap_err();
        assert!(
            err.to_string().contains("phases[1].depends_on: 'C'"),
            "{err}"
        );
    }

    #[test]
    fn a_type_error_names_line_and_column() {
        let text = GOOD.replace(r#"execute = "a.rhai""#, "execute = 3");
        let err = Migration::parse(&text, Path::new("m.toml")).unwrap_err();
        assert!(err.to_string().contains("m.toml: 8:11"), "{err}");
    }

    #[test]
    fn targets_are_met_inside_their_range() {
        let target = MetricTarget {
            name: "x".into(),
            at_most: Some(5.0),
            at_least: Some(1.0),
        };
        assert!(target.is_met_by(1.0) && target.is_met_by(5.0));
        assert!(!target.is_met_by(0.5) && !target.is_met_by(6.0));
    }
}
