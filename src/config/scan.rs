//! `[scan]`: what `orchestra scan` adds to or takes from the shipped rules.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::scan::RuleSpec;
use crate::scan::rules::Overrides;
use crate::scan::walker::DEFAULT_MAX_FILE_SIZE;

/// The scanner's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanSettings {
    /// A rules file that replaces the shipped `rules/scan.toml` (same format).
    pub rules_file: Option<PathBuf>,
    /// Rules added after the shipped ones (`[[scan.rules]]`); one with a shipped id replaces it.
    pub rules: Vec<RuleSpec>,
    /// Rule ids switched off.
    pub disabled_rules: Vec<String>,
    /// Path regexes (`/`-separated, relative to the scanned root) never scanned.
    pub allow_paths: Vec<String>,
    /// Regexes on a matched value that mark it as not a credential.
    pub allow_regexes: Vec<String>,
    /// More words that mark a value as a placeholder (case-insensitive).
    pub stopwords: Vec<String>,
    /// Files larger than this many bytes are skipped and counted.
    pub max_file_size: u64,
    /// Whether `orchestra scan` asks each finding's issuer if it is live (`--verify`,
    /// `--no-verify` override it). Off by default: a scan sends nothing anywhere unasked.
    pub verify: bool,
    /// Where found Slack webhooks are checked: Slack's hooks host, or a local emulator's URL.
    pub slack_hooks_url: String,
}

impl Default for ScanSettings {
    fn default() -> Self {
        Self {
            rules_file: None,
            rules: Vec::new(),
            disabled_rules: Vec::new(),
            allow_paths: Vec::new(),
            allow_regexes: Vec::new(),
            stopwords: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            verify: false,
            slack_hooks_url: crate::scan::verify::SLACK_HOOKS_URL.to_owned(),
        }
    }
}

impl ScanSettings {
    /// The overrides the rule set applies.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            rules: self.rules.clone(),
            disabled_rules: self.disabled_rules.clone(),
            allow_paths: self.allow_paths.clone(),
            allow_regexes: self.allow_regexes.clone(),
            stopwords: self.stopwords.clone(),
        }
    }
}
