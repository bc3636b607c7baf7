//! Baselines: the findings a team has accepted, by rule and keyed fingerprint (plus the file
//! and line for people), so a later scan reports only what is new. No value is stored.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::ScanError;
use super::finding::Finding;

/// The format version written and accepted.
const VERSION: u32 = 1;

/// One accepted finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The rule id.
    pub rule: String,
    /// The keyed fingerprint of the value.
    pub fingerprint: String,
    /// Where it was, for people reading the file.
    pub file: String,
    /// The line it was on.
    pub line: u32,
}

/// A baseline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Always 1.
    pub version: u32,
    /// The accepted findings.
    pub findings: Vec<Entry>,
}

impl Baseline {
    /// The baseline that accepts exactly `findings`.
    pub fn from_findings(findings: &[Finding]) -> Self {
        let entries: BTreeSet<Entry> = findings
            .iter()
            .map(|f| Entry {
                rule: f.rule.clone(),
                fingerprint: f.fingerprint.clone(),
                file: f.file.clone(),
                line: f.line,
            })
            .collect();
        Self {
            version: VERSION,
            findings: entries.into_iter().collect(),
        }
    }

    /// Reads a baseline written by `--write-baseline`.
    pub fn read(path: &Path) -> Result<Self, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScanError::io("read", path, &e))?;
        let baseline: Self = serde_json::from_str(&text).map_err(|e| ScanError::Baseline {
            path: path.to_owned(),
            reason: format!("expected the JSON `--write-baseline` writes: {e}"),
        })?;
        if baseline.version != VERSION {
            return Err(ScanError::Baseline {
                path: path.to_owned(),
                reason: format!("expected version {VERSION}, found {}", baseline.version),
            });
        }
        Ok(baseline)
    }

    /// Writes the baseline as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), ScanError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| ScanError::Baseline {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        std::fs::write(path, text + "\n").map_err(|e| ScanError::io("write", path, &e))
    }

    /// True when `finding` was accepted (same rule and value, wherever it now is).
    pub fn contains(&self, finding: &Finding) -> bool {
        self.findings
            .iter()
            .any(|e| e.rule == finding.rule && e.fingerprint == finding.fingerprint)
    }
}
