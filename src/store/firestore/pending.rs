//! Journal writes that need not be durable before anything else happens: a read's step, a
//! step's outcome, an event. They wait here and ride on the next commit this process makes
//! anyway (a mutation's fenced intent, a state write, the lease renewal every third of the
//! lease, the run's end), so a step costs one round trip instead of three.
//!
//! What this gives up: a process killed between two commits loses the reads, outcomes and
//! events it made since the last one. A mutation's intent is never deferred (it is durable
//! before the request leaves), so such a journal still shows every change that may have been
//! made, as `started`, which resume already treats as undecided.

use std::sync::Mutex;

use crate::clients::firestore::{Committed, Firestore, WriteOp};
use crate::clients::google_error::GoogleError;

/// How many deferred writes may wait before they are committed on their own.
pub(super) const MAX_DEFERRED: usize = 100;

/// The deferred journal writes of one process, in the order they were made.
#[derive(Default)]
pub(super) struct Deferred(Mutex<Vec<WriteOp>>);

impl Deferred {
    /// Adds `op`; how many are waiting now.
    pub(super) fn push(&self, op: WriteOp) -> usize {
        let mut ops = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ops.push(op);
        ops.len()
    }

    /// Every waiting write, leaving none.
    pub(super) fn take(&self) -> Vec<WriteOp> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Whether no write is waiting.
    pub(super) fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// Drops every waiting write `doomed` picks; how many.
    pub(super) fn discard(&self, doomed: impl Fn(&WriteOp) -> bool) -> usize {
        let mut ops = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let before = ops.len();
        ops.retain(|op| !doomed(op));
        before - ops.len()
    }

    /// Puts back `ops` that a failed commit carried, ahead of any added since.
    pub(super) fn restore(&self, mut ops: Vec<WriteOp>) {
        if ops.is_empty() {
            return;
        }
        let mut waiting = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ops.append(&mut waiting);
        *waiting = ops;
    }
}

/// Commits the waiting writes followed by `ops`, all or none; the update times of `ops`
/// alone. On failure the waiting writes wait again, for the next commit.
pub(super) async fn commit_carrying(
    client: &Firestore,
    deferred: &Deferred,
    ops: Vec<WriteOp>,
) -> Result<Committed, GoogleError> {
    let mut writes = deferred.take();
    let carried = writes.len();
    if carried == 0 && ops.is_empty() {
        return Ok(Committed::default());
    }
    writes.extend(ops);
    match client.commit_writes(&writes).await {
        Ok(mut committed) => {
            committed
                .update_times
                .drain(..carried.min(committed.update_times.len()));
            Ok(committed)
        }
        Err(error) => {
            writes.truncate(carried);
            deferred.restore(writes);
            Err(error)
        }
    }
}
