//! Masks secret values that slip into text on its way out of the process.
//!
//! Every [`Secret`](crate::secret::Secret) this process creates registers its value (and the
//! encodings it is commonly written in) here; every line bound for the terminal, the log file,
//! the SQLite journal or an error message passes through [`mask`] first. This is the last line
//! of defence: the `Secret` type already refuses to show its value, this catches the value when
//! it reaches a string by a path nobody foresaw.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{LazyLock, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Shorter values are not masked: they would mask ordinary words.
const MIN_MASKED_LEN: usize = 6;

/// Every value registered so far, and one automaton that finds them all in a single pass over
/// a line (rebuilt on the first mask after a registration), so masking costs the same with
/// five hundred secrets held as with five.
#[derive(Default)]
struct Known {
    texts: Vec<String>,
    replacements: Vec<String>,
    seen: HashSet<String>,
    matcher: Option<AhoCorasick>,
}

static KNOWN: LazyLock<RwLock<Known>> = LazyLock::new(|| RwLock::new(Known::default()));

/// Registers a secret value: it, its standard base64 and its URL-safe base64 are replaced by
/// `replacement` wherever [`mask`] finds them.
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
        if text.len() >= MIN_MASKED_LEN && known.seen.insert(text.clone()) {
            known.texts.push(text);
            known.replacements.push(replacement.to_owned());
            known.matcher = None;
        }
    }
}

/// `text` with every registered value replaced (the longest match wins); borrowed when there
/// was nothing to mask.
pub fn mask(text: &str) -> Cow<'_, str> {
    {
        let known = KNOWN
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if known.texts.is_empty() {
            return Cow::Borrowed(text);
        }
        if let Some(matcher) = &known.matcher {
            return replace(matcher, &known.replacements, text);
        }
    }
    let mut known = KNOWN
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if known.matcher.is_none() {
        match AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&known.texts)
        {
            Ok(matcher) => known.matcher = Some(matcher),
            // Cannot happen for plain strings within memory; mask by hand rather than leak.
            Err(_) => return Cow::Owned(mask_slowly(&known, text)),
        }
    }
    match &known.matcher {
        Some(matcher) => replace(matcher, &known.replacements, text),
        None => Cow::Owned(mask_slowly(&known, text)),
    }
}

fn replace<'a>(matcher: &AhoCorasick, replacements: &[String], text: &'a str) -> Cow<'a, str> {
    if matcher.is_match(text) {
        Cow::Owned(matcher.replace_all(text, replacements))
    } else {
        Cow::Borrowed(text)
    }
}

fn mask_slowly(known: &Known, text: &str) -> String {
    let mut order: Vec<usize> = (0..known.texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(known.texts[i].len()));
    let mut masked = text.to_owned();
    for i in order {
        masked = masked.replace(&known.texts[i], &known.replacements[i]);
    }
    masked
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
    fn a_value_registered_after_a_mask_is_masked_too_and_the_longest_wins() {
        register(b"first-value-xyz", "Secret(fp:1111)");
        assert_eq!(mask("a first-value-xyz"), "a Secret(fp:1111)");
        register(b"first-value-xyz-and-more", "Secret(fp:2222)");
        assert_eq!(
            mask("b first-value-xyz-and-more"),
            "b Secret(fp:2222)",
            "the longer value is masked whole"
        );
    }

    #[test]
    fn leaves_clean_text_borrowed() {
        assert!(matches!(mask("nothing to see"), Cow::Borrowed(_)));
    }
}
