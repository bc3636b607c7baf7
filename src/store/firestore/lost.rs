//! A run whose lease is lost writes nothing more: not a state change, not a journal record,
//! not its own outcome. The machine that took the lock over owns the run's record and journal
//! now (it marked the run interrupted and resumes from what the journal said when it took
//! over), so a step outcome, an event or a `failed` status the old holder wrote afterwards
//! would change what the new holder relies on.
//!
//! So, once this process learns it lost a lease (a fenced commit refused, or the renewal
//! finding another holder), the run's journal writes still waiting for a commit are dropped,
//! and any it makes later are dropped as they come. While a process holds a lease, every
//! commit it makes is fenced on it (see `FirestoreState::commit`), so what was waiting never
//! lands unfenced before the loss is known either.

use std::sync::Arc;

use super::fence::Lease;
use super::{FirestoreState, padded};
use crate::clients::firestore::WriteOp;

impl FirestoreState {
    /// Records that `lease` is lost and drops its run's journal writes still waiting.
    pub(super) fn forsake(&self, lease: &Lease) {
        lease.mark_lost();
        self.lost_runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(lease.run);
        let dropped = self
            .deferred
            .discard(|op| self.journal_run_of(op) == Some(lease.run));
        if dropped > 0 {
            tracing::warn!(
                "run {} lost its lease on lock '{}': {dropped} journal record(s) it had not written yet are dropped, so the new holder's view of the run stays as it found it",
                lease.run,
                lease.name
            );
        }
    }

    /// Whether `op` is a journal write of a run that lost its lease (it is not to be made).
    pub(super) fn is_forsaken(&self, op: &WriteOp) -> bool {
        self.journal_run_of(op).is_some_and(|run| {
            self.lost_runs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&run)
        })
    }

    /// The lease every commit of this process is fenced on: the one it holds, if it holds
    /// exactly one (a process runs one run at a time; with none, commits are unfenced).
    pub(super) fn sole_lease(&self) -> Option<Arc<Lease>> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match held.values().collect::<Vec<_>>().as_slice() {
            [only] => Some(Arc::clone(only)),
            _ => None,
        }
    }

    /// The run a step or event write belongs to (their ids start with the padded run id).
    fn journal_run_of(&self, op: &WriteOp) -> Option<i64> {
        let path = op.path().as_str();
        let (collection, id) = path.split_once('/')?;
        let family = collection.strip_prefix(&self.prefix)?.strip_prefix('_')?;
        if !matches!(family, "steps" | "events") {
            return None;
        }
        let run: i64 = id.split_once('-')?.0.parse().ok()?;
        (id.starts_with(&padded(run))).then_some(run)
    }
}
