//! Alert conditions in `{prefix}_alerts`: one document per condition key, so a severity one
//! machine announced is not announced again by the next, and a message one machine could not
//! send is delivered by whichever runs next.

use super::FirestoreState;
use super::fields::{document_id, int, map, opt_int, opt_string, string, text};
use crate::clients::firestore::{Document, FieldValue, Fields, WriteOp};
use crate::secret::mask::mask;
use crate::store::{AlertRecord, StoreError};

impl FirestoreState {
    /// See [`crate::store::Store::alert`].
    pub(in crate::store) fn alert(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        let path = self.doc("alerts", &document_id(key))?;
        self.block(self.client.get(&path, None))
            .map_err(|e| self.failed(e))?
            .map(|d| self.alert_from(&d))
            .transpose()
    }

    /// See [`crate::store::Store::put_alert`].
    pub(in crate::store) fn put_alerts(&self, records: &[AlertRecord]) -> Result<(), StoreError> {
        self.refuse_in_plan("alerts")?;
        let ops = records
            .iter()
            .map(|r| self.alert_write(r))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.commit(ops)
    }

    /// The write of `record` as it is (`state migrate` copies each alert with it).
    pub(super) fn alert_write(&self, record: &AlertRecord) -> Result<WriteOp, StoreError> {
        Ok(WriteOp::Set {
            path: self.doc("alerts", &document_id(&record.key))?,
            fields: alert_fields(record),
            merge: false,
        })
    }

    /// Every alert, by key.
    pub(in crate::store) fn alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        let mut records = self
            .documents("alerts", Vec::new())?
            .iter()
            .map(|d| self.alert_from(d))
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(records)
    }

    /// The record an alert document holds; a missing field is named.
    fn alert_from(&self, doc: &Document) -> Result<AlertRecord, StoreError> {
        let fields = &doc.fields;
        let missing = |column: &'static str| self.corrupt_field("alerts", doc, column, "missing");
        Ok(AlertRecord {
            key: text(fields, "key").ok_or_else(|| missing("key"))?,
            severity: text(fields, "severity").ok_or_else(|| missing("severity"))?,
            message: text(fields, "message").unwrap_or_default(),
            changed_at: int(fields, "changed_at").ok_or_else(|| missing("changed_at"))?,
            last_sent_at: int(fields, "last_sent_at"),
            unsent: text(fields, "unsent"),
        })
    }
}

/// An alert document's fields, its messages masked as SQLite masks them.
fn alert_fields(record: &AlertRecord) -> Fields {
    map([
        ("key", string(record.key.as_str())),
        ("severity", string(record.severity.as_str())),
        ("message", string(mask(&record.message).into_owned())),
        ("changed_at", FieldValue::Integer(record.changed_at)),
        ("last_sent_at", opt_int(record.last_sent_at)),
        (
            "unsent",
            opt_string(record.unsent.as_deref().map(|m| mask(m).into_owned())),
        ),
    ])
}
