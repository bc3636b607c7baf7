//! Takes a finding's value back out of where it was found, as a [`Secret`], for the verifier
//! and for `scan::value`: the file is read again and matched again, and the match with the
//! finding's rule and fingerprint is the value. Nothing else in the scanner holds values.
//!
//! For a service-account key the value is the whole key file when the file is one (a key
//! cannot be checked, stored or rotated without its id and account), else the private key.

use std::path::Path;

use zeroize::Zeroizing;

use super::error::ScanError;
use super::finding::Finding;
use super::git;
use super::matcher::{Matcher, Source};
use crate::secret::{FingerprintKey, Secret, ServiceAccountKey};

/// The rule id of service-account key files.
pub const SERVICE_ACCOUNT_KEY_RULE: &str = "gcp-service-account-key";

/// Where findings were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The working tree.
    Tree,
    /// The index (`--staged`).
    Index,
    /// Commits (`--history`): each finding names its own.
    History,
}

/// A finding's value, found again.
pub struct Recovered {
    /// The value (for a key file, the whole file).
    pub value: Secret,
    /// The text of the file it is in, for rewriting.
    pub text: Zeroizing<String>,
    /// The byte range of the matched value in `text`.
    pub range: std::ops::Range<usize>,
}

/// Reads `finding`'s file under `root` (from `origin`) and takes its value out again; `None`
/// when the file no longer holds it.
pub fn recover(
    root: &Path,
    origin: Origin,
    matcher: &Matcher,
    key: &FingerprintKey,
    finding: &Finding,
) -> Result<Option<Recovered>, ScanError> {
    let text = Zeroizing::new(match (origin, finding.commit.as_deref()) {
        (_, Some(commit)) => git::show_file(root, Some(commit), &finding.file)?,
        (Origin::Index, None) => git::show_file(root, None, &finding.file)?,
        _ => {
            let path = root.join(&finding.file);
            match std::fs::read(&path) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(ScanError::io("read", &path, &e)),
            }
        }
    });
    let source = Source {
        path: &finding.file,
        commit: finding.commit.as_deref(),
        line_numbers: None,
    };
    let located = matcher.locate(source, &text);
    let Some(range) = located
        .iter()
        .filter(|(f, _)| f.rule == finding.rule && f.fingerprint == finding.fingerprint)
        .min_by_key(|(f, _)| f.line.abs_diff(finding.line))
        .map(|(_, range)| range.clone())
    else {
        return Ok(None);
    };
    let whole_key_file = finding.rule == SERVICE_ACCOUNT_KEY_RULE
        && ServiceAccountKey::parse_bytes(text.as_bytes()).is_ok();
    let bytes = if whole_key_file {
        text.as_bytes().to_vec()
    } else {
        text[range.clone()].as_bytes().to_vec()
    };
    Ok(Some(Recovered {
        value: Secret::new(bytes, key),
        text,
        range,
    }))
}
