//! Scan rules as data: the shipped `rules/scan.toml`, then `[scan]` on top, compiled once.

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::error::ScanError;

/// The rules shipped with orchestra, embedded in the binary.
pub const DEFAULT_RULES: &str = include_str!("../../rules/scan.toml");

/// One rule as written in a rules file or `[[scan.rules]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A stable id, e.g. `github-pat`; findings, baselines and `disabled_rules` use it.
    pub id: String,
    /// What the rule finds, for people.
    pub description: String,
    /// Strings one of which must be in a file before the regex runs (case-insensitive).
    pub keywords: Vec<String>,
    /// The regex; capture group 1 is the secret when present, else the whole match.
    pub regex: String,
    /// Leading characters of the secret the masked preview may show.
    #[serde(default)]
    pub preview: usize,
    /// The least Shannon entropy (bits per character) a secret must have.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// The secret must contain a digit (words, names and identifiers rarely do).
    #[serde(default)]
    pub require_digit: bool,
    /// Whether a stopword inside the secret marks it as a placeholder (default true). Off for
    /// long base64 bodies such as PEM keys, which hold a short word like `fake` by chance
    /// (about one key in three hundred); those rules rely on `min_entropy` instead.
    #[serde(default = "stopwords_apply")]
    pub stopwords: bool,
    /// A regex on the file path (with `/` separators) that limits the rule to some files.
    #[serde(default)]
    pub paths: Option<String>,
}

fn stopwords_apply() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    stopwords: Stopwords,
    #[serde(default)]
    allowlist: Allowlist,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allowlist {
    #[serde(default)]
    regexes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stopwords {
    #[serde(default)]
    words: Vec<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub spec: RuleSpec,
    /// The compiled regex.
    pub regex: Regex,
    /// The compiled path limit.
    pub paths: Option<Regex>,
}

/// The rules and the allowlists a scan applies.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Enabled rules, in file order.
    pub rules: Vec<Rule>,
    /// Lower-cased words that mark a value as a placeholder.
    pub stopwords: Vec<String>,
    /// Paths never scanned.
    pub allow_paths: Vec<Regex>,
    /// Values never reported.
    pub allow_values: Vec<Regex>,
}

/// What `[scan]` adds to or takes from the shipped rules.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Rules added after the shipped ones (a rule with a shipped id replaces it).
    pub rules: Vec<RuleSpec>,
    /// Rule ids switched off.
    pub disabled_rules: Vec<String>,
    /// Path regexes never scanned.
    pub allow_paths: Vec<String>,
    /// Value regexes never reported.
    pub allow_regexes: Vec<String>,
    /// More placeholder words.
    pub stopwords: Vec<String>,
}

fn compile(origin: &str, field: &str, pattern: &str) -> Result<Regex, ScanError> {
    Regex::new(pattern).map_err(|e| ScanError::Rules {
        origin: origin.to_owned(),
        reason: format!("{field}: expected a regex, {e}"),
    })
}

fn compile_rule(origin: &str, spec: RuleSpec) -> Result<Rule, ScanError> {
    let bad = |reason: String| ScanError::Rules {
        origin: origin.to_owned(),
        reason: format!("rule {}: {reason}", spec.id),
    };
    if spec.id.is_empty() {
        return Err(bad("id: expected a non-empty id".into()));
    }
    if spec.keywords.iter().all(String::is_empty) {
        return Err(bad("keywords: expected at least one keyword".into()));
    }
    let regex = compile(origin, &format!("rule {}.regex", spec.id), &spec.regex)?;
    let paths = spec
        .paths
        .as_deref()
        .map(|p| compile(origin, &format!("rule {}.paths", spec.id), p))
        .transpose()?;
    Ok(Rule { spec, regex, paths })
}

impl RuleSet {
    /// The rules `config` asks for: `[scan].rules_file` or the shipped ones, with `[scan]`'s
    /// overrides applied.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, ScanError> {
        let base = match &config.scan.rules_file {
            Some(file) => {
                let path = config.resolve(file);
                let text =
                    std::fs::read_to_string(&path).map_err(|e| ScanError::io("read", &path, &e))?;
                Self::parse(&path.display().to_string(), &text)?
            }
            None => Self::shipped()?,
        };
        base.with_overrides(&config.scan.overrides())
    }

    /// Parses a rules file in orchestra's format; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ScanError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| ScanError::Rules {
            origin: origin.to_owned(),
            reason: e.message().to_owned(),
        })?;
        let rules = file
            .rule
            .into_iter()
            .map(|spec| compile_rule(origin, spec))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            rules,
            stopwords: file
                .stopwords
                .words
                .iter()
                .map(|w| w.to_lowercase())
                .collect(),
            allow_paths: Vec::new(),
            allow_values: file
                .allowlist
                .regexes
                .iter()
                .enumerate()
                .map(|(i, p)| compile(origin, &format!("allowlist.regexes[{i}]"), p))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The shipped rules.
    pub fn shipped() -> Result<Self, ScanError> {
        Self::parse("rules/scan.toml (built in)", DEFAULT_RULES)
    }

    /// Applies `[scan]`: added or replaced rules, disabled ids, allowlists and stopwords.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Result<Self, ScanError> {
        const ORIGIN: &str = "[scan]";
        for spec in &overrides.rules {
            let rule = compile_rule(ORIGIN, spec.clone())?;
            match self.rules.iter_mut().find(|r| r.spec.id == spec.id) {
                Some(existing) => *existing = rule,
                None => self.rules.push(rule),
            }
        }
        for id in &overrides.disabled_rules {
            if !self.rules.iter().any(|r| &r.spec.id == id) {
                return Err(ScanError::Rules {
                    origin: ORIGIN.into(),
                    reason: format!("disabled_rules: no rule has the id {id}"),
                });
            }
        }
        self.rules
            .retain(|r| !overrides.disabled_rules.contains(&r.spec.id));
        for (i, p) in overrides.allow_paths.iter().enumerate() {
            self.allow_paths
                .push(compile(ORIGIN, &format!("allow_paths[{i}]"), p)?);
        }
        for (i, p) in overrides.allow_regexes.iter().enumerate() {
            self.allow_values
                .push(compile(ORIGIN, &format!("allow_regexes[{i}]"), p)?);
        }
        self.stopwords
            .extend(overrides.stopwords.iter().map(|w| w.to_lowercase()));
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_compile() {
        let rules = RuleSet::shipped().unwrap();
        assert!(rules.rules.iter().any(|r| r.spec.id == "github-pat"));
        assert!(!rules.stopwords.is_empty());
    }

    #[test]
    fn a_bad_regex_names_the_rule_and_field() {
        let text = "[[rule]]\nid = \"x\"\ndescription = \"d\"\nkeywords = [\"k\"]\nregex = \"(\"\n";
        let err = RuleSet::parse("t.toml", text).unwrap_err().to_string();
        assert!(
            err.contains("t.toml") && err.contains("rule x.regex"),
            "{err}"
        );
    }

    #[test]
    fn overrides_disable_and_refuse_unknown_ids() {
        let mut overrides = Overrides {
            disabled_rules: vec!["jwt".into()],
            ..Overrides::default()
        };
        let rules = RuleSet::shipped()
            .unwrap()
            .with_overrides(&overrides)
            .unwrap();
        assert!(rules.rules.iter().all(|r| r.spec.id != "jwt"));
        overrides.disabled_rules = vec!["nope".into()];
        let err = RuleSet::shipped()
            .unwrap()
            .with_overrides(&overrides)
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
