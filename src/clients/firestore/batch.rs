//! Writes, and batches of them split into commits that stay inside Firestore's per-request
//! limits (`commits.rs` sends them).
//!
//! Firestore's current quotas page lists the API request size (10 MiB) as the limit of a
//! Commit; it once also capped a commit at 500 writes. orchestra keeps both caps and is
//! stricter on size: at most 500 writes and 4 MiB per commit, the ceiling of a gRPC message
//! the Firestore emulator accepts (a 12 MB commit is refused there with RESOURCE_EXHAUSTED,
//! "gRPC message exceeds maximum size 4194304"). Each commit is atomic; a batch of several is
//! not, and a failure says how many writes had landed.

use std::collections::BTreeMap;

use firestore::gcloud_sdk::google::firestore::v1 as proto;
use firestore::gcloud_sdk::prost::Message;

use super::SERVICE;
use super::path::{DocumentPath, quote_field_path, quote_segment};
use super::value::{FieldValue, Fields, fields_to_proto, timestamp_to_proto};
use crate::clients::google_error::GoogleError;

/// One write.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Replace the document with `fields`, or (with `merge`) set only these fields, merging
    /// nested maps.
    Set {
        /// The document.
        path: DocumentPath,
        /// Its fields.
        fields: Fields,
        /// Merge into what is there instead of replacing it.
        merge: bool,
    },
    /// Change only the named fields (keys are field paths: `stats.runs`) of a document that
    /// must exist.
    Update {
        /// The document.
        path: DocumentPath,
        /// Field paths and their new values.
        fields: Fields,
    },
    /// Change only the named fields of a document that nobody wrote since `last_update`
    /// (its update time as last read or written): a compare-and-set on the whole document.
    /// When it changed since, the commit carrying it is refused with `FAILED_PRECONDITION`.
    UpdateIfUnchanged {
        /// The document.
        path: DocumentPath,
        /// Field paths and their new values.
        fields: Fields,
        /// The update time it must still have.
        last_update: jiff::Timestamp,
    },
    /// Replace the document with `fields` only if nobody wrote it since `last_update` (its
    /// update time as last read), or, with `None`, only if there is none: the write of a
    /// read-modify-write that needs no transaction. When the document changed since, the
    /// commit carrying it is refused (`FAILED_PRECONDITION`, or `ALREADY_EXISTS` for one
    /// that appeared; see [`super::is_precondition_failure`]).
    SetIfUnchanged {
        /// The document.
        path: DocumentPath,
        /// Its fields.
        fields: Fields,
        /// The update time it must still have; `None`: it must not exist.
        last_update: Option<jiff::Timestamp>,
    },
    /// Delete the document (nothing happens when there is none).
    Delete {
        /// The document.
        path: DocumentPath,
    },
    /// Delete the document, which must exist: when there is none the commit carrying it is
    /// refused (`NOT_FOUND` or `FAILED_PRECONDITION`), so "did it exist" needs no read.
    DeleteExisting {
        /// The document.
        path: DocumentPath,
    },
}

impl WriteOp {
    /// The document it writes.
    pub fn path(&self) -> &DocumentPath {
        match self {
            Self::Set { path, .. }
            | Self::Update { path, .. }
            | Self::UpdateIfUnchanged { path, .. }
            | Self::SetIfUnchanged { path, .. }
            | Self::Delete { path }
            | Self::DeleteExisting { path } => path,
        }
    }

    /// The verb, for plan lines.
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Set { merge: false, .. } | Self::SetIfUnchanged { .. } => "set",
            Self::Set { merge: true, .. } => "merge into",
            Self::Update { .. } | Self::UpdateIfUnchanged { .. } => "update",
            Self::Delete { .. } | Self::DeleteExisting { .. } => "delete",
        }
    }

    /// The field names it writes (never their values).
    pub fn field_names(&self) -> Vec<String> {
        match self {
            Self::Set { fields, .. }
            | Self::Update { fields, .. }
            | Self::UpdateIfUnchanged { fields, .. }
            | Self::SetIfUnchanged { fields, .. } => fields.keys().cloned().collect(),
            Self::Delete { .. } | Self::DeleteExisting { .. } => Vec::new(),
        }
    }

    /// Its protobuf form.
    pub fn to_proto(&self, documents_root: &str) -> proto::Write {
        let name = |path: &DocumentPath| format!("{documents_root}/{}", path.as_str());
        match self {
            Self::Set {
                path,
                fields,
                merge,
            } => proto::Write {
                operation: Some(proto::write::Operation::Update(proto::Document {
                    name: name(path),
                    fields: fields_to_proto(fields, documents_root),
                    ..Default::default()
                })),
                update_mask: merge.then(|| proto::DocumentMask {
                    field_paths: leaf_paths(fields, ""),
                }),
                ..Default::default()
            },
            Self::Update { path, fields } => update_write(
                name(path),
                fields,
                proto::precondition::ConditionType::Exists(true),
                documents_root,
            ),
            Self::UpdateIfUnchanged {
                path,
                fields,
                last_update,
            } => update_write(
                name(path),
                fields,
                proto::precondition::ConditionType::UpdateTime(timestamp_to_proto(*last_update)),
                documents_root,
            ),
            Self::SetIfUnchanged {
                path,
                fields,
                last_update,
            } => proto::Write {
                operation: Some(proto::write::Operation::Update(proto::Document {
                    name: name(path),
                    fields: fields_to_proto(fields, documents_root),
                    ..Default::default()
                })),
                current_document: Some(proto::Precondition {
                    condition_type: Some(match last_update {
                        Some(time) => proto::precondition::ConditionType::UpdateTime(
                            timestamp_to_proto(*time),
                        ),
                        None => proto::precondition::ConditionType::Exists(false),
                    }),
                }),
                ..Default::default()
            },
            Self::Delete { path } => proto::Write {
                operation: Some(proto::write::Operation::Delete(name(path))),
                ..Default::default()
            },
            Self::DeleteExisting { path } => proto::Write {
                operation: Some(proto::write::Operation::Delete(name(path))),
                current_document: Some(proto::Precondition {
                    condition_type: Some(proto::precondition::ConditionType::Exists(true)),
                }),
                ..Default::default()
            },
        }
    }
}

/// A write of the named field paths of document `name`, made only when `condition` holds.
fn update_write(
    name: String,
    fields: &Fields,
    condition: proto::precondition::ConditionType,
    documents_root: &str,
) -> proto::Write {
    let mut nested = Fields::new();
    for (field_path, value) in fields {
        insert_at(&mut nested, field_path, value.clone());
    }
    proto::Write {
        operation: Some(proto::write::Operation::Update(proto::Document {
            name,
            fields: fields_to_proto(&nested, documents_root),
            ..Default::default()
        })),
        update_mask: Some(proto::DocumentMask {
            field_paths: fields.keys().map(|k| quote_field_path(k)).collect(),
        }),
        current_document: Some(proto::Precondition {
            condition_type: Some(condition),
        }),
        ..Default::default()
    }
}

/// When each write of a commit left its document (`None` after a delete), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// One per write.
    pub update_times: Vec<Option<jiff::Timestamp>>,
}

/// The field paths of every leaf of `fields` (a non-empty map is descended into), for a
/// merging set.
fn leaf_paths(fields: &Fields, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in fields {
        let path = format!("{prefix}{}", quote_segment(key));
        match value {
            FieldValue::Map(inner) if !inner.is_empty() => {
                out.extend(leaf_paths(inner, &format!("{path}.")));
            }
            _ => out.push(path),
        }
    }
    out
}

/// Puts `value` at dotted `field_path` inside `fields`, making the maps on the way.
fn insert_at(fields: &mut BTreeMap<String, FieldValue>, field_path: &str, value: FieldValue) {
    match field_path.split_once('.') {
        None => {
            fields.insert(field_path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = fields
                .entry(head.to_owned())
                .or_insert_with(|| FieldValue::Map(Fields::new()));
            if !matches!(entry, FieldValue::Map(_)) {
                *entry = FieldValue::Map(Fields::new());
            }
            if let FieldValue::Map(inner) = entry {
                insert_at(inner, rest, value);
            }
        }
    }
}

/// How much one commit may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitLimits {
    /// Writes per commit.
    pub max_writes: usize,
    /// Encoded request bytes per commit.
    pub max_bytes: usize,
}

impl Default for CommitLimits {
    fn default() -> Self {
        Self {
            max_writes: 500,
            max_bytes: 4 * 1024 * 1024 - 64 * 1024,
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Writes applied.
    pub writes: usize,
    /// Writes in each commit made, in order.
    pub commits: Vec<usize>,
}

/// Splits `writes` into commits inside `limits`, keeping their order.
pub fn split(
    writes: Vec<proto::Write>,
    limits: CommitLimits,
) -> Result<Vec<Vec<proto::Write>>, GoogleError> {
    let mut chunks: Vec<Vec<proto::Write>> = Vec::new();
    let mut current: Vec<proto::Write> = Vec::new();
    let mut bytes = 0;
    for write in writes {
        // The write's bytes plus its field tag and length prefix in the CommitRequest.
        let len = write.encoded_len() + 6;
        if len > limits.max_bytes {
            return Err(GoogleError::internal(
                SERVICE,
                format!(
                    "one write is {len} bytes, more than the {} a commit may carry",
                    limits.max_bytes
                ),
            ));
        }
        if !current.is_empty()
            && (current.len() == limits.max_writes || bytes + len > limits.max_bytes)
        {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += len;
        current.push(write);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(i: usize, bytes: usize) -> proto::Write {
        let mut fields = Fields::new();
        fields.insert("s".into(), FieldValue::String("x".repeat(bytes)));
        WriteOp::Set {
            path: DocumentPath::parse(&format!("c/d{i}")).expect("path"),
            fields,
            merge: false,
        }
        .to_proto("projects/p/databases/(default)/documents")
    }

    #[test]
    fn twelve_hundred_small_writes_take_three_commits() {
        let chunks = split(
            (0..1200).map(|i| set(i, 10)).collect(),
            CommitLimits::default(),
        )
        .expect("split");
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![500, 500, 200]);
    }

    #[test]
    fn large_writes_split_on_bytes() {
        let chunks = split(
            (0..10).map(|i| set(i, 900_000)).collect(),
            CommitLimits::default(),
        )
        .expect("split");
        for chunk in &chunks {
            let bytes: usize = chunk.iter().map(|w| w.encoded_len() + 6).sum();
            assert!(bytes <= CommitLimits::default().max_bytes);
        }
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 10);
        assert!(chunks.len() >= 3);
    }

    #[test]
    fn a_merge_masks_every_leaf() {
        let mut inner = Fields::new();
        inner.insert("b".into(), FieldValue::Integer(1));
        let mut fields = Fields::new();
        fields.insert("a".into(), FieldValue::Map(inner));
        fields.insert("my-key".into(), FieldValue::Null);
        assert_eq!(leaf_paths(&fields, ""), vec!["a.b", "`my-key`"]);
    }
}
