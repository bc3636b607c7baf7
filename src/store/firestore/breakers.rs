//! Circuit breakers in `{prefix}_breakers`: one document per breaker name, so a breaker that
//! one machine opened is open for every machine sharing the state.
//!
//! A transition is a read-modify-write inside one Firestore transaction: the failure counter
//! read, the next record decided from it, and the write committed only if nobody changed the
//! document meanwhile (`ABORTED` otherwise, and the transition is decided again over what the
//! other machine wrote). Two machines never both count from the same value or both take the
//! half-open trial.

use super::FirestoreState;
use super::fields::{document_id, int, map, opt_int, opt_string, string, text};
use crate::clients::firestore::{Document, FieldValue, TransactionId, WriteOp};
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
        let mut retrying = None;
        for _ in 0..ATTEMPTS {
            let tx = self
                .block(self.client.begin(retrying.as_ref()))
                .map_err(|e| self.failed(e))?;
            let read = match self.block(self.client.get(&path, Some(&tx))) {
                Ok(doc) => doc.map(|d| self.breaker_from(&d)).transpose(),
                Err(e) => Err(self.failed(e)),
            };
            let decided = read.map(|current| transition(current, now_ms()));
            let (answer, next) = match decided {
                Ok((answer, Some(next))) => match self.refuse_in_plan("breakers") {
                    Ok(()) => (answer, next),
                    Err(e) => return Err(self.abandon(&tx, e)),
                },
                Ok((answer, None)) => {
                    self.block(self.client.rollback(&tx));
                    return Ok(answer);
                }
                Err(e) => return Err(self.abandon(&tx, e)),
            };
            let set = WriteOp::Set {
                path: path.clone(),
                fields: breaker_fields(name, &next),
                merge: false,
            };
            if self.block(self.commit_or_lose(&tx, &[set]))? {
                return Ok(answer);
            }
            retrying = Some(tx);
        }
        Err(StoreError::Shared {
            place: self.place.clone(),
            reason: format!(
                "breaker '{name}': {ATTEMPTS} attempts lost to other machines changing it"
            ),
        })
    }

    /// Rolls `tx` back and hands `error` on.
    fn abandon(&self, tx: &TransactionId, error: StoreError) -> StoreError {
        self.block(self.client.rollback(tx));
        error
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
        let corrupt = |column: &'static str, value: String| StoreError::Corrupt {
            table: "breakers",
            column,
            value: format!("{value} (in {}, {})", doc.path.as_str(), self.place),
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
