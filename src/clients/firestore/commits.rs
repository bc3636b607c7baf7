//! Sends a batch: its writes split into commits (`batch.rs`), the commits sent concurrently
//! when no document is written by two of them, one after another when one is (so the later
//! write to that document lands last, as the batch's order says).
//!
//! A commit is one round trip to Firestore, so a batch of 1,000 writes made of three commits
//! waits for one round trip instead of three. Each commit is atomic; the batch is not, and a
//! failure says how many writes had landed (in the commits that succeeded).

use std::collections::HashMap;

use firestore::gcloud_sdk::google::firestore::v1 as proto;
use futures_util::stream::{self, StreamExt};

use super::Firestore;
use super::batch::{BatchOutcome, CommitLimits, WriteOp, split};
use crate::clients::google_error::GoogleError;

/// Commits in flight at once: enough to overlap the round trips of a large batch, few enough
/// not to crowd the one HTTP/2 connection every other call shares.
const MAX_CONCURRENT_COMMITS: usize = 8;

/// The document a write changes (its full resource name).
pub(super) fn written_document(write: &proto::Write) -> Option<&str> {
    use proto::write::Operation;
    match write.operation.as_ref()? {
        Operation::Update(doc) => Some(doc.name.as_str()),
        Operation::Delete(name) => Some(name.as_str()),
        Operation::Transform(transform) => Some(transform.document.as_str()),
    }
}

/// Whether some document is written by two different chunks: then the chunks must land in
/// order and are not sent concurrently.
pub(super) fn chunks_share_a_document(chunks: &[Vec<proto::Write>]) -> bool {
    let mut writer: HashMap<&str, usize> = HashMap::new();
    for (i, chunk) in chunks.iter().enumerate() {
        for name in chunk.iter().filter_map(written_document) {
            if writer.insert(name, i).is_some_and(|earlier| earlier != i) {
                return true;
            }
        }
    }
    false
}

/// The error of commit `index` (from 0) of `total`, saying what had landed.
fn failed_commit(
    mut error: GoogleError,
    index: usize,
    total: usize,
    landed: usize,
    writes: usize,
) -> GoogleError {
    error.message = format!(
        "commit {} of {total} failed after {landed} of {writes} writes had landed: {}",
        index + 1,
        error.message
    );
    error
}

impl Firestore {
    /// Applies `ops` in as few commits as `limits` allow: concurrently when no document is
    /// written by two commits, else in order, stopping at the first commit that fails. A
    /// failure says how many writes had landed.
    pub async fn batch(
        &self,
        ops: &[WriteOp],
        limits: CommitLimits,
    ) -> Result<BatchOutcome, GoogleError> {
        let root = self.documents_root();
        let chunks = split(ops.iter().map(|op| op.to_proto(&root)).collect(), limits)?;
        let total = chunks.len();
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        if chunks_share_a_document(&chunks) {
            let mut outcome = BatchOutcome::default();
            for (i, chunk) in chunks.into_iter().enumerate() {
                if let Err(error) = self.commit(chunk, None).await {
                    return Err(failed_commit(error, i, total, outcome.writes, ops.len()));
                }
                outcome.writes += sizes[i];
                outcome.commits.push(sizes[i]);
            }
            return Ok(outcome);
        }
        let results: Vec<(usize, Result<_, GoogleError>)> =
            stream::iter(chunks.into_iter().enumerate())
                .map(|(i, chunk)| async move { (i, self.commit(chunk, None).await) })
                .buffer_unordered(MAX_CONCURRENT_COMMITS)
                .collect()
                .await;
        let landed: usize = results
            .iter()
            .filter(|(_, result)| result.is_ok())
            .map(|(i, _)| sizes[*i])
            .sum();
        let first_failure = results
            .into_iter()
            .filter_map(|(i, result)| result.err().map(|error| (i, error)))
            .min_by_key(|(i, _)| *i);
        if let Some((i, error)) = first_failure {
            return Err(failed_commit(error, i, total, landed, ops.len()));
        }
        Ok(BatchOutcome {
            writes: landed,
            commits: sizes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::firestore::{DocumentPath, FieldValue, Fields};

    fn set(path: &str) -> proto::Write {
        let mut fields = Fields::new();
        fields.insert("n".into(), FieldValue::Integer(1));
        WriteOp::Set {
            path: DocumentPath::parse(path).expect("path"),
            fields,
            merge: false,
        }
        .to_proto("projects/p/databases/(default)/documents")
    }

    fn delete(path: &str) -> proto::Write {
        WriteOp::Delete {
            path: DocumentPath::parse(path).expect("path"),
        }
        .to_proto("projects/p/databases/(default)/documents")
    }

    #[test]
    fn disjoint_chunks_may_go_together() {
        let chunks = vec![
            vec![set("c/a"), set("c/b")],
            vec![set("c/c"), delete("c/d")],
        ];
        assert!(!chunks_share_a_document(&chunks));
    }

    #[test]
    fn a_document_written_twice_in_one_chunk_does_not_order_chunks() {
        let chunks = vec![vec![set("c/a"), delete("c/a")], vec![set("c/b")]];
        assert!(!chunks_share_a_document(&chunks));
    }

    #[test]
    fn a_document_in_two_chunks_keeps_them_in_order() {
        let chunks = vec![vec![set("c/a"), set("c/b")], vec![delete("c/b")]];
        assert!(chunks_share_a_document(&chunks));
    }
}
