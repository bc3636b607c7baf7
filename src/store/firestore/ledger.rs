//! The sync ledger in `{prefix}_ledger`: one document per (secret, target, GitHub name), so
//! two machines syncing the same pairs see one ledger. Only keyed fingerprints are written
//! (checked as in SQLite before anything leaves); intents and records are each one commit.

use super::FirestoreState;
use super::fields::{document_id, int, map, opt_int, opt_string, string, text};
use crate::clients::firestore::{CommitLimits, Document, FieldValue, WriteOp};
use crate::store::{LedgerEntry, LedgerIntent, LedgerKey, LedgerRecord, RunId, StoreError, now_ms};

/// Most writes one ledger call makes atomically: one commit's worth.
const MAX_ATOMIC: usize = 500;

/// The document id of a pair: its three names encoded and joined by `~`.
fn ledger_id(key: &LedgerKey) -> String {
    format!(
        "{}~{}~{}",
        document_id(&key.gcp_secret),
        document_id(&key.target),
        document_id(&key.github_name)
    )
}

fn key_fields(key: &LedgerKey) -> [(&'static str, FieldValue); 3] {
    [
        ("gcp_secret", string(key.gcp_secret.clone())),
        ("target", string(key.target.clone())),
        ("github_name", string(key.github_name.clone())),
    ]
}

fn entry(doc: &Document) -> Option<LedgerEntry> {
    let f = &doc.fields;
    let intent = match (text(f, "pending_kind"), text(f, "pending_since")) {
        (Some(kind), Some(since)) => Some(LedgerIntent {
            kind,
            fingerprint: text(f, "pending_fingerprint"),
            since,
            github_updated_at: text(f, "pending_github_updated_at"),
        }),
        _ => None,
    };
    Some(LedgerEntry {
        key: LedgerKey {
            gcp_secret: text(f, "gcp_secret")?,
            target: text(f, "target")?,
            github_name: text(f, "github_name")?,
        },
        fingerprint: text(f, "fingerprint"),
        gcp_version: int(f, "gcp_version"),
        github_updated_at: text(f, "github_updated_at"),
        direction: text(f, "direction"),
        synced_at: int(f, "synced_at"),
        intent,
    })
}

impl FirestoreState {
    /// See [`crate::store::Store::ledger_entries`].
    pub(in crate::store) fn ledger_entries(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        // Sorted here: ordering by three fields would need a composite index in Firestore.
        let docs = self.documents("ledger", Vec::new())?;
        let mut entries = docs
            .iter()
            .map(|doc| {
                entry(doc).ok_or_else(|| StoreError::Corrupt {
                    table: "sync_ledger",
                    column: "gcp_secret",
                    value: doc.path.to_string(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        entries.sort_by(|a, b| {
            let key = |e: &LedgerEntry| {
                (
                    e.key.gcp_secret.clone(),
                    e.key.target.clone(),
                    e.key.github_name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(entries)
    }

    /// See [`crate::store::Store::ledger_intend`].
    pub(in crate::store) fn ledger_intend(
        &self,
        intents: &[(LedgerKey, LedgerIntent)],
    ) -> Result<(), StoreError> {
        let ops = intents
            .iter()
            .map(|(key, intent)| {
                let [a, b, c] = key_fields(key);
                Ok(WriteOp::Set {
                    path: self.doc("ledger", &ledger_id(key))?,
                    fields: map([
                        a,
                        b,
                        c,
                        ("pending_kind", string(intent.kind.clone())),
                        (
                            "pending_fingerprint",
                            opt_string(intent.fingerprint.clone()),
                        ),
                        ("pending_since", string(intent.since.clone())),
                        (
                            "pending_github_updated_at",
                            opt_string(intent.github_updated_at.clone()),
                        ),
                    ]),
                    merge: true,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.commit_atomically(&ops)
    }

    /// See [`crate::store::Store::ledger_record`].
    pub(in crate::store) fn ledger_record(
        &self,
        records: &[LedgerRecord],
        run_id: Option<RunId>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let ops = records
            .iter()
            .map(|record| {
                let [a, b, c] = key_fields(&record.key);
                Ok(WriteOp::Set {
                    path: self.doc("ledger", &ledger_id(&record.key))?,
                    fields: map([
                        a,
                        b,
                        c,
                        ("fingerprint", string(record.fingerprint.clone())),
                        ("gcp_version", opt_int(record.gcp_version)),
                        (
                            "github_updated_at",
                            opt_string(record.github_updated_at.clone()),
                        ),
                        ("direction", string(record.direction.clone())),
                        ("synced_at", FieldValue::Integer(now)),
                        ("synced_by_run", opt_int(run_id.map(|r| r.0))),
                        ("pending_kind", FieldValue::Null),
                        ("pending_fingerprint", FieldValue::Null),
                        ("pending_since", FieldValue::Null),
                        ("pending_github_updated_at", FieldValue::Null),
                    ]),
                    merge: false,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.commit_atomically(&ops)
    }

    /// See [`crate::store::Store::ledger_forget`].
    pub(in crate::store) fn ledger_forget(&self, keys: &[LedgerKey]) -> Result<usize, StoreError> {
        let mut ops = Vec::new();
        for key in keys {
            let path = self.doc("ledger", &ledger_id(key))?;
            let exists = self
                .block(self.client.get(&path, None))
                .map_err(|e| self.failed(e))?
                .is_some();
            if exists {
                ops.push(WriteOp::Delete { path });
            }
        }
        self.commit_atomically(&ops)?;
        Ok(ops.len())
    }

    /// The write that copies `entry` as it is (its sync time and any intent kept), for
    /// `state migrate`.
    pub(super) fn ledger_import(&self, entry: &LedgerEntry) -> Result<WriteOp, StoreError> {
        let [a, b, c] = key_fields(&entry.key);
        let intent = entry.intent.as_ref();
        Ok(WriteOp::Set {
            path: self.doc("ledger", &ledger_id(&entry.key))?,
            fields: map([
                a,
                b,
                c,
                ("fingerprint", opt_string(entry.fingerprint.clone())),
                ("gcp_version", opt_int(entry.gcp_version)),
                (
                    "github_updated_at",
                    opt_string(entry.github_updated_at.clone()),
                ),
                ("direction", opt_string(entry.direction.clone())),
                ("synced_at", opt_int(entry.synced_at)),
                ("synced_by_run", FieldValue::Null),
                ("pending_kind", opt_string(intent.map(|i| i.kind.clone()))),
                (
                    "pending_fingerprint",
                    opt_string(intent.and_then(|i| i.fingerprint.clone())),
                ),
                ("pending_since", opt_string(intent.map(|i| i.since.clone()))),
                (
                    "pending_github_updated_at",
                    opt_string(intent.and_then(|i| i.github_updated_at.clone())),
                ),
            ]),
            merge: false,
        })
    }

    /// Writes `ops` in one commit (all or nothing, as SQLite's transaction).
    fn commit_atomically(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        self.refuse_in_plan("ledger")?;
        if ops.is_empty() {
            return Ok(());
        }
        if ops.len() > MAX_ATOMIC {
            return Err(StoreError::Shared {
                place: self.place.clone(),
                reason: format!(
                    "{} ledger writes cannot be made atomically: at most {MAX_ATOMIC} at once",
                    ops.len()
                ),
            });
        }
        self.block(self.client.batch(ops, CommitLimits::default()))
            .map(|_| ())
            .map_err(|e| self.failed(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_whose_names_share_a_separator_get_distinct_ids() {
        let a = LedgerKey {
            gcp_secret: "projects/p/secrets/a~b".into(),
            target: "c".into(),
            github_name: "D".into(),
        };
        let b = LedgerKey {
            gcp_secret: "projects/p/secrets/a".into(),
            target: "b~c".into(),
            github_name: "D".into(),
        };
        assert_ne!(ledger_id(&a), ledger_id(&b));
        assert_eq!(ledger_id(&b), "projects%2Fp%2Fsecrets%2Fa~b%7Ec~D");
    }
}
