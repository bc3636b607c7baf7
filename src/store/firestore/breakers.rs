//! Circuit breakers in `{prefix}_breakers`: one document per breaker name, so a breaker that
//! one machine opened is open for every machine sharing the state.
//!
//! A transition is a read-modify-write without a transaction: the document is read, the next
//! record decided from it, and the write committed with a precondition on the update time
//! read (or on there being none), so it lands only if nobody changed the breaker meanwhile;
//! otherwise the transition is decided again over what the other machine wrote. Two machines
//! never both count from the same value or both take the half-open trial. That is the
//! guarantee a transaction gave on this one document, for one read and (only when the record
//! changes) one commit, instead of begin, read, and commit or rollback: most calls find the
//! breaker closed and change nothing.

use super::FirestoreState;
use super::fields::{document_id, int, map, opt_int, opt_string, string, text};
use crate::clients::firestore::{Document, FieldValue, WriteOp, is_precondition_failure};
use crate::secret::mask::mask;
use crate::store::{BreakerRecord, BreakerState, StoreError, now_ms};

/// How often a transition is decided again when another machine changed the breaker.
const ATTEMPTS: usize = 8;

impl FirestoreState {
    /// See [`crate::store::Store::update_breaker`].
    pub(in crate::store) fn update_breaker<T>(
        &self,
        name: &str,
        mut transition: impl FnMut(Option<BreakerRecord>, i64) -> (T, Option<BreakerRecord>),
    ) -> Result<T, StoreError> {
        let path = self.doc("breakers", &document_id(name))?;
        for _ in 0..ATTEMPTS {
            let doc = self
                .block(self.client.get(&path, None))
                .map_err(|e| self.failed(e))?;
            let current = doc.as_ref().map(|d| self.breaker_from(d)).transpose()?;
            let (answer, next) = transition(current, now_ms());
            let Some(next) = next else {
                return Ok(answer);
            };
            self.refuse_in_plan("breakers")?;
            let set = WriteOp::SetIfUnchanged {
                path: path.clone(),
                fields: breaker_fields(name, &next),
                last_update: doc.and_then(|d| d.update_time),
            };
            match self.block(self.client.commit_writes(&[set])) {
                Ok(_) => return Ok(answer),
                // Another machine wrote it since the read: decide again over its record.
                Err(e) if is_precondition_failure(&e) => {}
                Err(e) => return Err(self.failed(e)),
            }
        }
        Err(StoreError::Shared {
            place: self.place.clone(),
            reason: format!(
                "breaker '{name}': {ATTEMPTS} attempts lost to other machines changing it"
            ),
        })
    }

    /// See [`crate::store::Store::breakers`]: every breaker, by name.
    pub(in crate::store) fn breakers(&self) -> Result<Vec<BreakerRecord>, StoreError> {
        let mut records = self
            .documents("breakers", Vec::new())?
            .iter()
            .map(|d| self.breaker_from(d))
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(records)
    }

    /// See [`crate::store::Store::reset_breaker`].
    pub(in crate::store) fn reset_breaker(&self, name: &str) -> Result<bool, StoreError> {
        self.delete_if_present("breakers", &document_id(name))
    }

    /// The write of `record` as it is (`state migrate` copies each breaker with it).
    pub(super) fn breaker_write(&self, record: &BreakerRecord) -> Result<WriteOp, StoreError> {
        Ok(WriteOp::Set {
            path: self.doc("breakers", &document_id(&record.name))?,
            fields: breaker_fields(&record.name, record),
            merge: false,
        })
    }

    /// The record a breaker document holds; a field of the wrong shape is named.
    fn breaker_from(&self, doc: &Document) -> Result<BreakerRecord, StoreError> {
        let corrupt = |column: &'static str, value: String| {
            self.corrupt_field("breakers", doc, column, &value)
        };
        let fields = &doc.fields;
        let state_text = text(fields, "state").unwrap_or_default();
        let state = BreakerState::parse(&state_text).ok_or_else(|| corrupt("state", state_text))?;
        let count = |column: &'static str| {
            int(fields, column)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| corrupt(column, "not a count".into()))
        };
        Ok(BreakerRecord {
            name: text(fields, "name").ok_or_else(|| corrupt("name", "missing".into()))?,
            state,
            failures: count("failures")?,
            threshold: count("threshold")?,
            recovery_ms: int(fields, "recovery_ms")
                .ok_or_else(|| corrupt("recovery_ms", "missing".into()))?,
            opened_at: int(fields, "opened_at"),
            last_error: text(fields, "last_error"),
            updated_at: int(fields, "updated_at").unwrap_or(0),
        })
    }
}

/// A breaker document's fields; the last error masked as SQLite masks it.
fn breaker_fields(name: &str, record: &BreakerRecord) -> crate::clients::firestore::Fields {
    map([
        ("name", string(name)),
        ("state", string(record.state.as_str())),
        ("failures", FieldValue::Integer(i64::from(record.failures))),
        (
            "threshold",
            FieldValue::Integer(i64::from(record.threshold)),
        ),
        ("recovery_ms", FieldValue::Integer(record.recovery_ms)),
        ("opened_at", opt_int(record.opened_at)),
        (
            "last_error",
            opt_string(record.last_error.as_deref().map(|e| mask(e).into_owned())),
        ),
        ("updated_at", FieldValue::Integer(record.updated_at)),
    ])
}
