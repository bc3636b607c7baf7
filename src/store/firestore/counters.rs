//! Counter documents in `{prefix}_meta` (`run_ids` is taken with the lock in `leases`;
//! `phase_run_ids` here): read and moved in one Firestore transaction together with the
//! writes that use the value, so two machines never take the same id.

use super::FirestoreState;
use super::fields::{int, map};
use crate::clients::firestore::{FieldValue, WriteOp};
use crate::store::StoreError;

/// How often a counter's transaction is tried when another machine moves it meanwhile.
const ATTEMPTS: usize = 8;

impl FirestoreState {
    /// Reads counter `{prefix}_meta/{counter}` (its `next`, 1 when it has none) in a
    /// transaction and hands it to `plan`, which answers the counter's new value, the writes
    /// to commit with it, and what this returns; tried again when another machine won.
    pub(super) fn with_counter<T: Send>(
        &self,
        counter: &str,
        plan: impl Fn(i64) -> Result<(i64, Vec<WriteOp>, T), StoreError> + Send + Sync,
    ) -> Result<T, StoreError> {
        let path = self.doc("meta", counter)?;
        self.block(async {
            let mut retrying = None;
            for _ in 0..ATTEMPTS {
                let tx = self
                    .client
                    .begin(retrying.as_ref())
                    .await
                    .map_err(|e| self.failed(e))?;
                let found = self
                    .client
                    .get(&path, Some(&tx))
                    .await
                    .map_err(|e| self.failed(e))?;
                let next = found
                    .as_ref()
                    .and_then(|c| int(&c.fields, "next"))
                    .unwrap_or(1)
                    .max(1);
                let (moved, mut ops, answer) = plan(next)?;
                ops.push(WriteOp::Set {
                    path: path.clone(),
                    fields: map([("next", FieldValue::Integer(moved))]),
                    merge: false,
                });
                if self.commit_or_lose(&tx, &ops).await? {
                    return Ok(answer);
                }
                retrying = Some(tx);
            }
            Err(StoreError::Shared {
                place: self.place.clone(),
                reason: format!(
                    "moving the counter {counter} lost {ATTEMPTS} times to other machines"
                ),
            })
        })
    }
}
