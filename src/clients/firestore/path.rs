//! Document and collection paths below a database's documents, checked against Firestore's
//! naming rules before any request leaves: `agents/planner` (a document: an even number of
//! segments), `agents` or `agents/planner/notes` (a collection: an odd number).

/// Longest segment Firestore accepts, in bytes.
const MAX_SEGMENT_BYTES: usize = 1500;
/// Longest document name Firestore accepts (6 KiB).
const MAX_PATH_BYTES: usize = 6 * 1024;

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A document path with an odd number of segments, or a collection path with an even one.
    #[error(
        "'{path}' has {segments} segment(s): a {expected} path has an {parity} number (collection/document{more})"
    )]
    Parity {
        /// The path given.
        path: String,
        /// How many segments it has.
        segments: usize,
        /// `document` or `collection`.
        expected: &'static str,
        /// `even` or `odd`.
        parity: &'static str,
        /// The rest of the example.
        more: &'static str,
    },
    /// A segment Firestore refuses.
    #[error("'{path}': segment '{segment}' is not allowed: {why}")]
    Segment {
        /// The path given.
        path: String,
        /// The segment.
        segment: String,
        /// Which rule it breaks.
        why: &'static str,
    },
}

fn segments<'a>(path: &'a str, whole: &str) -> Result<Vec<&'a str>, PathError> {
    let refuse = |segment: &str, why| PathError::Segment {
        path: whole.to_owned(),
        segment: segment.to_owned(),
        why,
    };
    if path.len() > MAX_PATH_BYTES {
        return Err(refuse("", "the path is longer than 6 KiB"));
    }
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts {
        if part.is_empty() {
            return Err(refuse(
                part,
                "segments are not empty (no leading, trailing or double /)",
            ));
        }
        if *part == "." || *part == ".." {
            return Err(refuse(part, "a segment is not . or .."));
        }
        if part.len() > 4 && part.starts_with("__") && part.ends_with("__") {
            return Err(refuse(part, "names like __x__ are reserved by Firestore"));
        }
        if part.len() > MAX_SEGMENT_BYTES {
            return Err(refuse(part, "a segment is at most 1,500 bytes"));
        }
    }
    Ok(parts)
}

/// A document's path, e.g. `agents/planner`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentPath(String);

impl DocumentPath {
    /// Parses `text`: an even number of non-empty segments.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let parts = segments(text, text)?;
        if parts.len() % 2 != 0 {
            return Err(PathError::Parity {
                path: text.to_owned(),
                segments: parts.len(),
                expected: "document",
                parity: "even",
                more: ", e.g. agents/planner",
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The document's id (its last segment).
    pub fn id(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl std::fmt::Display for DocumentPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A collection's path, e.g. `runs` or `agents/planner/notes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionPath(String);

impl CollectionPath {
    /// Parses `text`: an odd number of non-empty segments.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let parts = segments(text, text)?;
        if parts.len() % 2 == 0 {
            return Err(PathError::Parity {
                path: text.to_owned(),
                segments: parts.len(),
                expected: "collection",
                parity: "odd",
                more: ", e.g. runs or agents/planner/notes",
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The collection's id (its last segment).
    pub fn id(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The document it is nested under, if any.
    pub fn parent(&self) -> Option<DocumentPath> {
        self.0
            .rsplit_once('/')
            .map(|(parent, _)| DocumentPath(parent.to_owned()))
    }
}

/// A dotted field path (`stats.tokens`) in Firestore's syntax: each segment that is not a
/// plain identifier is quoted in backticks (`` `my-key`.x ``).
pub(super) fn quote_field_path(path: &str) -> String {
    path.split('.')
        .map(quote_segment)
        .collect::<Vec<_>>()
        .join(".")
}

/// One field-path segment, quoted when it is not a plain identifier.
pub(super) fn quote_segment(segment: &str) -> String {
    let plain = segment
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        segment.to_owned()
    } else {
        format!("`{}`", segment.replace('\\', "\\\\").replace('`', "\\`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_quote_what_is_not_an_identifier() {
        assert_eq!(quote_field_path("stats.tokens"), "stats.tokens");
        assert_eq!(quote_field_path("my-key.x"), "`my-key`.x");
    }

    #[test]
    fn a_document_path_has_an_even_number_of_segments() {
        assert!(DocumentPath::parse("agents/planner").is_ok());
        assert!(DocumentPath::parse("a/b/c/d").is_ok());
        let odd = DocumentPath::parse("agents/planner/notes").unwrap_err();
        assert!(
            odd.to_string()
                .contains("'agents/planner/notes' has 3 segment(s)"),
            "{odd}"
        );
    }

    #[test]
    fn a_collection_path_has_an_odd_number() {
        let c = CollectionPath::parse("agents/planner/notes").expect("collection");
        assert_eq!(c.id(), "notes");
        assert_eq!(c.parent().map(|p| p.0), Some("agents/planner".to_owned()));
        assert!(CollectionPath::parse("agents/planner").is_err());
    }

    #[test]
    fn empty_and_reserved_segments_are_refused() {
        for bad in ["", "a//b", "/a/b", "a/..", "__x__/y"] {
            assert!(DocumentPath::parse(bad).is_err(), "{bad}");
        }
    }
}
