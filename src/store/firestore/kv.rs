//! Playbook state in `{prefix}_kv`: one document per row key, so a rotation's stage written
//! on one machine is what a resume on another reads. Row keys and values arrive sealed
//! (`state::` hashes the name and encrypts the value under the fingerprint key, which is
//! never written here), exactly as SQLite stores them.

use super::FirestoreState;
use super::fields::{document_id, map, opt_int, string, text};
use crate::clients::firestore::{Direction, FieldValue, Filter, FilterOp, Order, Query, WriteOp};
use crate::store::{RunId, StoreError, now_ms};

impl FirestoreState {
    /// See [`crate::store::Store::state_get`].
    pub(in crate::store) fn state_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let path = self.doc("kv", &document_id(key))?;
        let doc = self
            .block(self.client.get(&path, None))
            .map_err(|e| self.failed(e))?;
        Ok(doc.and_then(|d| text(&d.fields, "value")))
    }

    /// See [`crate::store::Store::state_set`] and [`crate::store::Store::state_replace`]:
    /// `replaced` is deleted in the same commit. Written by a run that holds a lease, the
    /// commit is fenced on it, so a holder that lost its lease changes no state.
    pub(in crate::store) fn state_set(
        &self,
        key: &str,
        json: &str,
        run_id: Option<RunId>,
        replaced: Option<&str>,
    ) -> Result<(), StoreError> {
        self.refuse_in_plan("kv")?;
        let mut ops = vec![WriteOp::Set {
            path: self.doc("kv", &document_id(key))?,
            fields: map([
                ("key", string(key)),
                ("value", string(json)),
                ("updated_at", FieldValue::Integer(now_ms())),
                ("updated_by_run", opt_int(run_id.map(|r| r.0))),
            ]),
            merge: false,
        }];
        if let Some(replaced) = replaced.filter(|r| *r != key) {
            ops.push(WriteOp::Delete {
                path: self.doc("kv", &document_id(replaced))?,
            });
        }
        match run_id.and_then(|run| self.lease_of(run.0)) {
            Some(lease) => self.commit_fenced(&lease, ops),
            None => self.commit(ops),
        }
    }

    /// See [`crate::store::Store::state_delete`]. While this process holds a lease the
    /// delete is fenced on it, as `state_set` is: a holder that lost it deletes nothing.
    pub(in crate::store) fn state_delete(&self, key: &str) -> Result<bool, StoreError> {
        let Some(lease) = self.sole_lease() else {
            return self.delete_if_present("kv", &document_id(key));
        };
        self.refuse_in_plan("kv")?;
        let path = self.doc("kv", &document_id(key))?;
        let existed = self
            .block(self.client.get(&path, None))
            .map_err(|e| self.failed(e))?
            .is_some();
        let ops = if existed {
            vec![WriteOp::Delete { path }]
        } else {
            Vec::new()
        };
        self.commit_fenced(&lease, ops)?;
        Ok(existed)
    }

    /// The rows whose key starts with `prefix` (all with ""), in key order.
    pub(in crate::store) fn state_rows_from(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        // One range on the field the query is ordered by needs no composite index.
        let query = Query {
            collection: self.collection("kv")?,
            filters: vec![Filter {
                field: "key".into(),
                op: FilterOp::GreaterThanOrEqual,
                value: string(prefix),
            }],
            order_by: vec![Order {
                field: "key".into(),
                direction: Direction::Ascending,
            }],
            limit: None,
            start_after: None,
        };
        let docs = self
            .block(self.client.query(&query, None))
            .map_err(|e| self.failed(e))?;
        Ok(docs
            .iter()
            .filter_map(|d| Some((text(&d.fields, "key")?, text(&d.fields, "value")?)))
            .take_while(|(key, _)| key.starts_with(prefix))
            .collect())
    }
}
