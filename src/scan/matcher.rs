//! Runs the rules over one text: an aho-corasick pass for keywords decides which regexes run
//! at all, then each candidate is checked against entropy, stopwords, allowlists and
//! `orchestra:allow` before it becomes a finding.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::entropy::shannon;
use super::error::ScanError;
use super::finding::{Finding, preview};
use super::rules::{Rule, RuleSet};
use crate::secret::FingerprintKey;

/// The inline marker that suppresses findings on its line.
pub const ALLOW_MARKER: &str = "orchestra:allow";

/// Compiled rules plus the keyword automaton; shared by every walker thread.
pub struct Matcher {
    rules: RuleSet,
    keywords: AhoCorasick,
    /// For each keyword pattern, the rules it triggers.
    keyword_rules: Vec<Vec<usize>>,
    key: Arc<FingerprintKey>,
}

/// Where a text came from, so findings can name it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The path, relative to the root, `/`-separated.
    pub path: &'a str,
    /// The commit, in history mode.
    pub commit: Option<&'a str>,
    /// The real line number of each line of the text, when the text is a set of added
    /// lines rather than a whole file.
    pub line_numbers: Option<&'a [u32]>,
}

impl Matcher {
    /// Builds the keyword automaton for `rules`.
    pub fn new(rules: RuleSet, key: Arc<FingerprintKey>) -> Result<Self, ScanError> {
        let mut patterns = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (index, rule) in rules.rules.iter().enumerate() {
            for keyword in rule.spec.keywords.iter().filter(|k| !k.is_empty()) {
                let lower = keyword.to_lowercase();
                match patterns.iter().position(|p| p == &lower) {
                    Some(at) => keyword_rules[at].push(index),
                    None => {
                        patterns.push(lower);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| ScanError::Rules {
                origin: "keywords".into(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            rules,
            keywords,
            keyword_rules,
            key,
        })
    }

    /// True when `path` is allowlisted and must not be scanned.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.rules.allow_paths.iter().any(|r| r.is_match(path))
    }

    /// Every finding in `text`.
    pub fn scan(&self, source: Source<'_>, text: &str) -> Vec<Finding> {
        self.locate(source, text)
            .into_iter()
            .map(|(finding, _)| finding)
            .collect()
    }

    /// Every finding in `text`, each with the byte range of its value in `text` (for the
    /// verifier and the rewriter, which take the value out of the text themselves).
    pub fn locate(&self, source: Source<'_>, text: &str) -> Vec<(Finding, std::ops::Range<usize>)> {
        let mut triggered = vec![false; self.rules.rules.len()];
        let mut any = false;
        for hit in self.keywords.find_overlapping_iter(text) {
            for &rule in &self.keyword_rules[hit.pattern().as_usize()] {
                triggered[rule] = true;
                any = true;
            }
        }
        if !any {
            return Vec::new();
        }
        let mut lines: Option<Vec<usize>> = None;
        let mut findings = Vec::new();
        let mut seen: Vec<(usize, usize)> = Vec::new();
        for (index, rule) in self.rules.rules.iter().enumerate() {
            if !triggered[index] || !rule.paths.as_ref().is_none_or(|p| p.is_match(source.path)) {
                continue;
            }
            for captures in rule.regex.captures_iter(text) {
                let Some(secret) = captures.get(1).or_else(|| captures.get(0)) else {
                    continue;
                };
                let span = (secret.start(), secret.end());
                if seen
                    .iter()
                    .any(|&(start, end)| start < span.1 && span.0 < end)
                    || !self.reportable(rule, secret.as_str())
                {
                    continue;
                }
                let starts = lines.get_or_insert_with(|| line_starts(text));
                let line_index = starts.partition_point(|&s| s <= secret.start()) - 1;
                let line_start = starts[line_index];
                let line_end = starts.get(line_index + 1).copied().unwrap_or(text.len());
                if text[line_start..line_end].contains(ALLOW_MARKER) {
                    continue;
                }
                seen.push(span);
                let range = secret.start()..secret.end();
                let line = source
                    .line_numbers
                    .and_then(|numbers| numbers.get(line_index).copied())
                    .unwrap_or_else(|| u32::try_from(line_index + 1).unwrap_or(u32::MAX));
                let column = text[line_start..secret.start()].chars().count() + 1;
                findings.push((
                    Finding {
                        rule: rule.spec.id.clone(),
                        file: source.path.to_owned(),
                        line,
                        column: u32::try_from(column).unwrap_or(u32::MAX),
                        commit: source.commit.map(str::to_owned),
                        preview: preview(secret.as_str(), rule.spec.preview),
                        fingerprint: self.key.fingerprint(secret.as_str().as_bytes()),
                        verification: None,
                    },
                    range,
                ));
            }
        }
        findings.sort_by_key(|(f, _)| (f.line, f.column));
        findings
    }

    fn reportable(&self, rule: &Rule, value: &str) -> bool {
        if rule
            .spec
            .min_entropy
            .is_some_and(|min| shannon(value.as_bytes()) < min)
        {
            return false;
        }
        if rule.spec.require_digit && !value.bytes().any(|b| b.is_ascii_digit()) {
            return false;
        }
        if rule.spec.stopwords {
            let lower = value.to_lowercase();
            if self
                .rules
                .stopwords
                .iter()
                .any(|w| lower.contains(w.as_str()))
            {
                return false;
            }
        }
        !self.rules.allow_values.iter().any(|r| r.is_match(value))
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(memchr_newlines(text).map(|i| i + 1))
        .collect()
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        Matcher::new(
            RuleSet::shipped().unwrap(),
            Arc::new(FingerprintKey::ephemeral()),
        )
        .unwrap()
    }

    fn source(path: &str) -> Source<'_> {
        Source {
            path,
            commit: None,
            line_numbers: None,
        }
    }

    #[test]
    fn a_token_is_found_with_its_place_and_no_value() {
        let token = ["ghp", "_", "Zq8rT1mXv4bN7wKp2sLd9fHy3cJe6gAu0iWo"].concat();
        let text = format!("first line\nTOKEN = \"{token}\"\n");
        let found = matcher().scan(source("a.py"), &text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].line, found[0].column), (2, 10));
        assert_eq!(found[0].rule, "github-pat");
        assert!(!format!("{found:?}").contains(&token));
    }

    #[test]
    fn the_allow_marker_and_stopwords_suppress() {
        let token = ["ghp", "_", "Zq8rT1mXv4bN7wKp2sLd9fHy3cJe6gAu0iWo"].concat();
        let text = format!("t = \"{token}\" # orchestra:allow\n");
        assert!(matcher().scan(source("a.py"), &text).is_empty());
        let text = ["ghp", "_", &"X".repeat(36)].concat();
        assert!(matcher().scan(source("a.py"), &text).is_empty());
    }

    /// Four lines of base64 made here (xorshift), so this file holds no key.
    fn base64_lines(seed: u64) -> Vec<String> {
        const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x = seed | 1;
        (0..4)
            .map(|_| {
                (0..64)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        char::from(BASE64[usize::try_from(x % 64).unwrap_or(0)])
                    })
                    .collect()
            })
            .collect()
    }

    fn pem(lines: &[String], separator: &str) -> String {
        [
            "-----BEGIN ",
            "PRIVATE KEY-----",
            separator,
            &lines.join(separator),
        ]
        .concat()
    }

    #[test]
    fn a_key_body_holding_a_stopword_by_chance_is_still_found() {
        let mut lines = base64_lines(17);
        lines[1].replace_range(10..14, "fAkE");
        lines[2].replace_range(30..35, "ToKeN");
        let block = pem(&lines, "\\n");
        let text =
            format!("{{\n  \"type\": \"service_account\",\n  \"private_key\": \"{block}\"\n}}\n");
        let found = matcher().scan(source("sa.json"), &text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "gcp-service-account-key");
        let found = matcher().scan(source("id_rsa"), &pem(&lines, "\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "private-key");
    }

    #[test]
    fn a_placeholder_key_body_is_not_reported() {
        let lines = vec!["X".repeat(64); 4];
        let block = pem(&lines, "\\n");
        let text = format!("{{ \"private_key\": \"{block}\" }}\n");
        assert!(matcher().scan(source("sa.json"), &text).is_empty());
        assert!(
            matcher()
                .scan(source("id_rsa"), &pem(&lines, "\n"))
                .is_empty()
        );
    }
}
