//! The journal in `{prefix}_steps`. A mutation's intent is written in one commit fenced on
//! the run's lock (`fence`), so a holder that lost its lease stops before the request
//! leaves; reads and outcomes wait for the next commit (`pending`). A mutation whose one
//! change is a fenced write to this store (`state::set`, `state::delete`) needs no commit of
//! its own for the intent: it waits too, and lands in the write's commit, all or nothing with
//! the change.

use super::fields::{int, map, opt_int, string, text};
use super::{FirestoreState, padded};
use crate::clients::firestore::{FieldValue, WriteOp};
use crate::secret::mask::mask;
use crate::store::{RunId, StepEffect, StepRecord, StepRef, StepStatus, StoreError, now_ms};

/// The primitives whose one change is a fenced commit to this store, made right after their
/// step begins (`state::set` seals its value and writes it with `Store::state_replace`,
/// fenced on the run's lease; `state::delete` deletes with a commit fenced on the lease this
/// process holds, and makes none when there was nothing to delete): their intent rides that
/// commit instead of a fenced commit of its own. A primitive whose write is not fenced must
/// not be listed.
const FENCED_BY_OWN_WRITE: &[&str] = &["state::set", "state::delete"];

impl FirestoreState {
    pub(super) fn step_id(run: RunId, seq: i64) -> String {
        format!("{}-{seq:06}", padded(run.0))
    }

    /// See [`crate::store::Store::begin_step`].
    pub(in crate::store) fn begin_step(
        &self,
        run_id: RunId,
        primitive: &str,
        effect: StepEffect,
        target: &str,
        status: StepStatus,
        detail: &str,
    ) -> Result<StepRef, StoreError> {
        let lease = self
            .lease_of(run_id.0)
            .ok_or_else(|| StoreError::LeaseLost {
                name: "(none)".into(),
                run_id,
                detail: "this process holds no lease for it".into(),
            })?;
        if lease.is_lost() {
            return Err(self.lost(&lease, None));
        }
        let seq = lease.next_seq();
        let now = now_ms();
        let step = WriteOp::Set {
            path: self.doc("steps", &Self::step_id(run_id, seq))?,
            fields: map([
                ("run", FieldValue::Integer(run_id.0)),
                ("seq", FieldValue::Integer(seq)),
                ("primitive", string(primitive)),
                ("effect", string(effect.as_str())),
                ("target", string(mask(target).into_owned())),
                ("status", string(status.as_str())),
                ("detail", string(mask(detail).into_owned())),
                ("started_at", FieldValue::Integer(now)),
                (
                    "finished_at",
                    opt_int((status != StepStatus::Started).then_some(now)),
                ),
            ]),
            merge: false,
        };
        let reference = StepRef { run_id, seq };
        if effect == StepEffect::Mutate
            && status == StepStatus::Started
            && !FENCED_BY_OWN_WRITE.contains(&primitive)
        {
            self.commit_fenced(&lease, vec![step])?;
        } else {
            self.defer(step)?;
        }
        Ok(reference)
    }

    /// See [`crate::store::Store::finish_step`].
    pub(in crate::store) fn finish_step(
        &self,
        step: StepRef,
        status: StepStatus,
        detail: &str,
    ) -> Result<(), StoreError> {
        let op = WriteOp::Update {
            path: self.doc("steps", &Self::step_id(step.run_id, step.seq))?,
            fields: map([
                ("status", string(status.as_str())),
                ("detail", string(mask(detail).into_owned())),
                ("finished_at", FieldValue::Integer(now_ms())),
            ]),
        };
        self.defer(op)
    }

    /// See [`crate::store::Store::steps`].
    pub(in crate::store) fn steps(&self, run_id: RunId) -> Result<Vec<StepRecord>, StoreError> {
        let docs = self.documents_of_run("steps", run_id.0)?;
        let corrupt = |column, value: String| StoreError::Corrupt {
            table: "steps",
            column,
            value,
        };
        let mut steps = docs
            .iter()
            .map(|doc| {
                let f = &doc.fields;
                let effect = text(f, "effect").unwrap_or_default();
                let status = text(f, "status").unwrap_or_default();
                Ok(StepRecord {
                    seq: int(f, "seq").ok_or_else(|| corrupt("seq", doc.path.to_string()))?,
                    primitive: text(f, "primitive").unwrap_or_default(),
                    effect: StepEffect::parse(&effect)
                        .ok_or_else(|| corrupt("effect", effect.clone()))?,
                    target: text(f, "target").unwrap_or_default(),
                    status: StepStatus::parse(&status)
                        .ok_or_else(|| corrupt("status", status.clone()))?,
                    detail: text(f, "detail").unwrap_or_default(),
                    started_at: int(f, "started_at").unwrap_or(0),
                    finished_at: int(f, "finished_at"),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Sorted here rather than by the query: equality on one field and order on another
        // would need a composite index in Firestore.
        steps.sort_by_key(|s| s.seq);
        Ok(steps)
    }
}
