//! The `sync_ledger` table: for each (Secret Manager secret, GitHub target, GitHub name), the
//! keyed fingerprint of the value last synced, where it came from and GitHub's `updated_at`
//! after the write; and the intent of a write in flight (in `{prefix}_ledger` with the
//! Firestore backend).
//!
//! Only fingerprints are stored: a fingerprint that is not 64 hex digits is refused, as a last
//! guard against a value arriving here by mistake.

use rusqlite::{Row, params};

use super::{RunId, Store, StoreError, now_ms};

/// Which synced pair a ledger row is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerKey {
    /// `projects/P/secrets/ID`.
    pub gcp_secret: String,
    /// `owner/repo`, `owner/repo:environment` or `org:NAME`, as configured.
    pub target: String,
    /// The GitHub Actions secret name.
    pub github_name: String,
}

/// A write in flight: recorded before the write, cleared by the record after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerIntent {
    /// `push` (Secret Manager to GitHub) or `export` (GitHub to Secret Manager).
    pub kind: String,
    /// The fingerprint being pushed (none for an export: the value is GitHub's).
    pub fingerprint: Option<String>,
    /// When the write started, as GitHub writes times (`2026-01-31T12:00:00Z`).
    pub since: String,
    /// GitHub's `updated_at` of the secret when the write started, if it existed.
    pub github_updated_at: Option<String>,
}

/// What was synced: the row written after a push or export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRecord {
    /// Which pair.
    pub key: LedgerKey,
    /// The keyed fingerprint of the value now on both sides.
    pub fingerprint: String,
    /// The Secret Manager version it is.
    pub gcp_version: Option<i64>,
    /// GitHub's `updated_at` after the write.
    pub github_updated_at: Option<String>,
    /// `push`, `export`, `adopt` or `recovered`.
    pub direction: String,
}

/// A ledger row as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Which pair.
    pub key: LedgerKey,
    /// The last synced fingerprint (none while only an intent is known).
    pub fingerprint: Option<String>,
    /// The Secret Manager version last synced.
    pub gcp_version: Option<i64>,
    /// GitHub's `updated_at` after the last write.
    pub github_updated_at: Option<String>,
    /// How it was last synced.
    pub direction: Option<String>,
    /// When (ms since the epoch).
    pub synced_at: Option<i64>,
    /// A write whose outcome was not recorded yet.
    pub intent: Option<LedgerIntent>,
}

fn check_fingerprint(fingerprint: &str) -> Result<(), StoreError> {
    if fingerprint.len() == 64 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            table: "sync_ledger",
            column: "fingerprint",
            value: format!(
                "a fingerprint must be 64 hex digits, found {} characters",
                fingerprint.len()
            ),
        })
    }
}

fn entry(row: &Row<'_>) -> rusqlite::Result<LedgerEntry> {
    let kind: Option<String> = row.get(9)?;
    let since: Option<String> = row.get(11)?;
    let intent = match (kind, since) {
        (Some(kind), Some(since)) => Some(LedgerIntent {
            kind,
            fingerprint: row.get(10)?,
            since,
            github_updated_at: row.get(12)?,
        }),
        _ => None,
    };
    Ok(LedgerEntry {
        key: LedgerKey {
            gcp_secret: row.get(0)?,
            target: row.get(1)?,
            github_name: row.get(2)?,
        },
        fingerprint: row.get(3)?,
        gcp_version: row.get(4)?,
        github_updated_at: row.get(5)?,
        direction: row.get(6)?,
        synced_at: row.get(7)?,
        intent,
    })
}

impl Store {
    /// Every ledger row, ordered by secret, target and name.
    pub fn ledger_entries(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.ledger_entries();
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT gcp_secret, target, github_name, fingerprint, gcp_version, github_updated_at,
                    direction, synced_at, synced_by_run, pending_kind, pending_fingerprint,
                    pending_since, pending_github_updated_at
             FROM sync_ledger ORDER BY gcp_secret, target, github_name",
        )?;
        let rows = stmt.query_map([], entry)?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }

    /// Records the intent of each write before it is made, in one transaction.
    pub fn ledger_intend(&self, intents: &[(LedgerKey, LedgerIntent)]) -> Result<(), StoreError> {
        for (_, intent) in intents {
            if let Some(fingerprint) = &intent.fingerprint {
                check_fingerprint(fingerprint)?;
            }
        }
        if let Some(shared) = &self.shared {
            return shared.ledger_intend(intents);
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (key, intent) in intents {
            tx.execute(
                "INSERT INTO sync_ledger (gcp_secret, target, github_name, pending_kind,
                     pending_fingerprint, pending_since, pending_github_updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(gcp_secret, target, github_name) DO UPDATE SET
                     pending_kind = excluded.pending_kind,
                     pending_fingerprint = excluded.pending_fingerprint,
                     pending_since = excluded.pending_since,
                     pending_github_updated_at = excluded.pending_github_updated_at",
                params![
                    key.gcp_secret,
                    key.target,
                    key.github_name,
                    intent.kind,
                    intent.fingerprint,
                    intent.since,
                    intent.github_updated_at
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records what was synced and clears the intents, in one transaction.
    pub fn ledger_record(
        &self,
        records: &[LedgerRecord],
        run_id: Option<RunId>,
    ) -> Result<(), StoreError> {
        for record in records {
            check_fingerprint(&record.fingerprint)?;
        }
        if let Some(shared) = &self.shared {
            return shared.ledger_record(records, run_id);
        }
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for record in records {
            tx.execute(
                "INSERT INTO sync_ledger (gcp_secret, target, github_name, fingerprint,
                     gcp_version, github_updated_at, direction, synced_at, synced_by_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(gcp_secret, target, github_name) DO UPDATE SET
                     fingerprint = excluded.fingerprint, gcp_version = excluded.gcp_version,
                     github_updated_at = excluded.github_updated_at,
                     direction = excluded.direction, synced_at = excluded.synced_at,
                     synced_by_run = excluded.synced_by_run, pending_kind = NULL,
                     pending_fingerprint = NULL, pending_since = NULL,
                     pending_github_updated_at = NULL",
                params![
                    record.key.gcp_secret,
                    record.key.target,
                    record.key.github_name,
                    record.fingerprint,
                    record.gcp_version,
                    record.github_updated_at,
                    record.direction,
                    now,
                    run_id.map(|r| r.0)
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes the rows of `keys`; how many existed.
    pub fn ledger_forget(&self, keys: &[LedgerKey]) -> Result<usize, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.ledger_forget(keys);
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut removed = 0;
        for key in keys {
            removed += tx.execute(
                "DELETE FROM sync_ledger WHERE gcp_secret = ?1 AND target = ?2 AND github_name = ?3",
                params![key.gcp_secret, key.target, key.github_name],
            )?;
        }
        tx.commit()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LedgerKey {
        LedgerKey {
            gcp_secret: "projects/p/secrets/db".into(),
            target: "acme/api".into(),
            github_name: "DB".into(),
        }
    }

    #[test]
    fn an_intent_then_a_record_leaves_one_clean_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let fp = "ab".repeat(32);
        let intent = LedgerIntent {
            kind: "push".into(),
            fingerprint: Some(fp.clone()),
            since: "2026-01-01T00:00:00Z".into(),
            github_updated_at: None,
        };
        store.ledger_intend(&[(key(), intent.clone())]).unwrap();
        let rows = store.ledger_entries().unwrap();
        assert_eq!(rows[0].intent.as_ref(), Some(&intent));
        assert_eq!(rows[0].fingerprint, None);
        let record = LedgerRecord {
            key: key(),
            fingerprint: fp.clone(),
            gcp_version: Some(3),
            github_updated_at: Some("2026-01-01T00:00:01Z".into()),
            direction: "push".into(),
        };
        store.ledger_record(&[record], None).unwrap();
        let rows = store.ledger_entries().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].fingerprint.as_deref(), Some(fp.as_str()));
        assert_eq!(rows[0].intent, None);
        assert_eq!(store.ledger_forget(&[key()]).unwrap(), 1);
        assert!(store.ledger_entries().unwrap().is_empty());
    }

    #[test]
    fn anything_but_a_fingerprint_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let record = LedgerRecord {
            key: key(),
            fingerprint: "hunter2".into(),
            gcp_version: None,
            github_updated_at: None,
            direction: "push".into(),
        };
        assert!(store.ledger_record(&[record], None).is_err());
    }
}
