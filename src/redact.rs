//! Masks secret values that slip into text on its way out of the process.
//!
//! Every [`Secret`](crate::engine::Secret) this process creates registers its value (and the
//! encodings it is commonly written in) here; every line bound for the terminal, the log file,
//! the SQLite journal or an error message passes through [`mask`] first. This is the last line
//! of defence: the `Secret` type already refuses to show its value, this catches the value when
//! it reaches a string by a path nobody foresaw.

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Values shorter than this are not masked: they would turn ordinary words into noise, and a
/// secret that short is not worth the name (`secret::generate` never makes one).
const MIN_MASKED_LEN: usize = 6;

struct KnownValue {
    text: String,
    replacement: String,
}

static KNOWN: LazyLock<RwLock<Vec<KnownValue>>> = LazyLock::new(|| RwLock::new(Vec::new()));

/// Registers a secret value so that [`mask`] replaces it, its base64 and its URL-safe base64
/// with `replacement` (the secret's redacted form) wherever they appear.
pub fn register(value: &[u8], replacement: &str) {
    let mut variants = Vec::with_capacity(3);
    if let Ok(text) = std::str::from_utf8(value) {
        variants.push(text.to_owned());
    }
    variants.push(STANDARD.encode(value));
    variants.push(URL_SAFE_NO_PAD.encode(value));
    let mut known = KNOWN
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for text in variants {
        if text.len() >= MIN_MASKED_LEN && !known.iter().any(|k| k.text == text) {
            known.push(KnownValue {
                text,
                replacement: replacement.to_owned(),
            });
        }
    }
    // Longest first, so a value that contains another is masked whole.
    known.sort_by_key(|k| std::cmp::Reverse(k.text.len()));
}

/// Returns `text` with every registered secret value replaced by its redacted form.
pub fn mask(text: &str) -> Cow<'_, str> {
    let known = KNOWN
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if known.is_empty() || !known.iter().any(|k| text.contains(&k.text)) {
        return Cow::Borrowed(text);
    }
    let mut masked = text.to_owned();
    for k in known.iter() {
        if masked.contains(&k.text) {
            masked = masked.replace(&k.text, &k.replacement);
        }
    }
    Cow::Owned(masked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_value_and_its_base64() {
        register(b"correct horse battery", "Secret(fp:aaaa)");
        let b64 = STANDARD.encode(b"correct horse battery");
        let line = format!("got correct horse battery and {b64}");
        let out = mask(&line);
        assert_eq!(out, "got Secret(fp:aaaa) and Secret(fp:aaaa)");
    }

    #[test]
    fn leaves_clean_text_borrowed() {
        assert!(matches!(mask("nothing to see"), Cow::Borrowed(_)));
    }
}
