//! What a scan reports: where a credential is, what kind, a masked preview and a keyed
//! fingerprint — never the value.

use serde::{Deserialize, Serialize};

/// One credential found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Finding {
    /// The rule id that matched.
    pub rule: String,
    /// The file, relative to the scanned root, `/`-separated.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The commit that added it (history mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The rule's allowed leading characters, an ellipsis, and the length: `ghp_… (40 chars)`.
    pub preview: String,
    /// The keyed fingerprint of the value (HMAC-SHA256 under the state's key file).
    pub fingerprint: String,
    /// What the issuer said of it, when the scan verified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<super::Verification>,
}

/// A masked preview: at most `keep` leading characters (never more than a quarter of the
/// value), then the length.
pub fn preview(value: &str, keep: usize) -> String {
    let len = value.chars().count();
    let keep = keep.min(len / 4);
    let head: String = value.chars().take(keep).collect();
    format!("{head}… ({len} chars)")
}

/// What a scan looked at and what it passed over.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScanStats {
    /// Files (or file versions, in history mode) scanned.
    pub files_scanned: u64,
    /// Files skipped because they look binary.
    pub skipped_binary: u64,
    /// Files skipped because they exceed the size limit.
    pub skipped_large: u64,
    /// Files skipped because an allowlisted path matched.
    pub skipped_allowlisted: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Findings hidden by the baseline.
    pub baselined: u64,
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn a_preview_shows_the_prefix_and_length_only() {
        let value = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(preview(&value, 4), "ghp_… (40 chars)");
        assert_eq!(preview("short", 4), "s… (5 chars)");
        assert_eq!(preview("hunter22", 0), "… (8 chars)");
    }
}
