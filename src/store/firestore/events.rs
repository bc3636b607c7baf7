//! Events in `{prefix}_events`: what a run printed and logged, redacted.

use std::sync::atomic::{AtomicI64, Ordering};

use super::fields::{int, map, string, text};
use super::{FirestoreState, padded};
use crate::clients::firestore::{FieldValue, WriteOp};
use crate::secret::mask::mask;
use crate::store::{EventRecord, RunId, StoreError, now_ms};

/// Orders the events of one process that share a millisecond.
static NEXT: AtomicI64 = AtomicI64::new(0);

impl FirestoreState {
    /// See [`crate::store::Store::append_event`].
    pub(in crate::store) fn append_event(
        &self,
        run_id: RunId,
        level: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let at = now_ms();
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let op = WriteOp::Set {
            path: self.doc("events", &format!("{}-{at}-{n}", padded(run_id.0)))?,
            fields: map([
                ("run", FieldValue::Integer(run_id.0)),
                ("n", FieldValue::Integer(n)),
                ("at", FieldValue::Integer(at)),
                ("level", string(level)),
                ("message", string(mask(message).into_owned())),
            ]),
            merge: false,
        };
        self.defer(op)
    }

    /// See [`crate::store::Store::events`].
    pub(in crate::store) fn events(&self, run_id: RunId) -> Result<Vec<EventRecord>, StoreError> {
        let docs = self.documents_of_run("events", run_id.0)?;
        let mut events: Vec<(i64, i64, EventRecord)> = docs
            .iter()
            .map(|d| {
                let f = &d.fields;
                let at = int(f, "at").unwrap_or(0);
                (
                    at,
                    int(f, "n").unwrap_or(0),
                    EventRecord {
                        at,
                        level: text(f, "level").unwrap_or_default(),
                        message: text(f, "message").unwrap_or_default(),
                    },
                )
            })
            .collect();
        events.sort_by_key(|(at, n, _)| (*at, *n));
        Ok(events.into_iter().map(|(_, _, e)| e).collect())
    }
}
