//! The `locks` table: at most one run per lock name, with takeover of locks left by dead
//! processes.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::{LockStatus, NewRun, RunId, Store, StoreError, now_ms};
use crate::process::{Liveness, ProcessIdentity};

/// Who holds a lock.
#[derive(Debug, Clone, Serialize)]
pub struct LockHolder {
    /// The run holding it.
    pub run_id: RunId,
    /// The process of that run.
    #[serde(skip)]
    pub process: ProcessIdentity,
    /// When it was taken, as RFC 3339.
    pub acquired_at: String,
    /// When its lease runs out, as RFC 3339 (Firestore only: SQLite locks have no lease).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<String>,
}

impl LockHolder {
    /// `run 42 (pid 123 on host) since T`, and the lease's end when there is one.
    pub fn describe(&self) -> String {
        let lease = self
            .lease_expires_at
            .as_ref()
            .map(|t| format!("; its lease runs until {t}"))
            .unwrap_or_default();
        format!(
            "run {} (pid {} on {}) since {}{lease}",
            self.run_id, self.process.pid, self.process.host, self.acquired_at
        )
    }
}

/// A lock acquired together with the run that holds it.
#[derive(Debug)]
pub struct AcquiredRun {
    /// The new run.
    pub run_id: RunId,
    /// A run whose dead process had left the lock behind, now marked interrupted.
    pub took_over_from: Option<RunId>,
}

impl Store {
    /// Atomically: checks lock `name`, takes it over if its holder is dead, inserts `run` and
    /// records it as the holder. Fails with [`StoreError::LockHeld`] if a live run holds it.
    pub fn start_run_with_lock(&self, name: &str, run: &NewRun) -> Result<AcquiredRun, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.start_run_with_lock(name, run);
        }
        let me = ProcessIdentity::current();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                "SELECT run_id, pid, host, process_start, acquired_at FROM locks WHERE name = ?1",
                [name],
                |row| {
                    Ok(LockHolder {
                        run_id: RunId(row.get(0)?),
                        process: ProcessIdentity {
                            pid: row.get(1)?,
                            host: row.get(2)?,
                            start_ticks: row.get::<_, Option<i64>>(3)?.map(|t| t as u64),
                        },
                        acquired_at: format_ms(row.get(4)?),
                        lease_expires_at: None,
                    })
                },
            )
            .optional()?;
        let mut took_over_from = None;
        if let Some(holder) = existing {
            if holder.process.liveness() != Liveness::Dead {
                return Err(StoreError::LockHeld {
                    name: name.to_owned(),
                    holder: Box::new(holder),
                });
            }
            tx.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?2,
                 error = COALESCE(error, 'the process running it died before it finished')
                 WHERE id = ?1 AND status = 'running'",
                params![holder.run_id.0, now_ms()],
            )?;
            tx.execute("DELETE FROM locks WHERE name = ?1", [name])?;
            took_over_from = Some(holder.run_id);
        }
        let run_id = Store::insert_run(&tx, run, &me)?;
        tx.execute(
            "INSERT INTO locks (name, run_id, pid, host, process_start, acquired_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                name,
                run_id.0,
                me.pid,
                me.host,
                me.start_ticks.map(|t| t as i64),
                now_ms()
            ],
        )?;
        tx.commit()?;
        Ok(AcquiredRun {
            run_id,
            took_over_from,
        })
    }

    /// Releases lock `name` if `run_id` holds it.
    pub fn release_lock(&self, name: &str, run_id: RunId) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.release_lock(name, run_id);
        }
        self.conn().execute(
            "DELETE FROM locks WHERE name = ?1 AND run_id = ?2",
            params![name, run_id.0],
        )?;
        Ok(())
    }
}

impl Store {
    /// Every lock that has a holder, by name.
    pub fn lock_statuses(&self) -> Result<Vec<LockStatus>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.lock_statuses();
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, run_id, pid, host, process_start, acquired_at FROM locks ORDER BY name",
        )?;
        let rows = stmt.query_map([], |row| {
            let host: String = row.get(3)?;
            Ok(LockStatus {
                name: row.get(0)?,
                holder: LockHolder {
                    run_id: RunId(row.get(1)?),
                    process: ProcessIdentity {
                        pid: row.get(2)?,
                        host: host.clone(),
                        start_ticks: row.get::<_, Option<i64>>(4)?.map(|t| t as u64),
                    },
                    acquired_at: format_ms(row.get(5)?),
                    lease_expires_at: None,
                },
                machine: host,
                token: None,
            })
        })?;
        rows.map(|r| r.map_err(StoreError::from)).collect()
    }

    /// Every lock held, by name, with its holder (whichever backend holds the locks).
    pub fn locks(&self) -> Result<Vec<(String, LockHolder)>, StoreError> {
        Ok(self
            .lock_statuses()?
            .into_iter()
            .map(|status| (status.name, status.holder))
            .collect())
    }
}

/// Formats stored milliseconds as RFC 3339 (UTC, seconds).
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunMode;

    fn new_run() -> NewRun {
        NewRun {
            playbook: "p.rhai".into(),
            source_hash: "h".into(),
            args_json: "{}".into(),
            mode: RunMode::Apply,
            resumes: None,
        }
    }

    #[test]
    fn second_acquire_by_a_live_holder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let first = store.start_run_with_lock("p", &new_run()).unwrap();
        let err = store.start_run_with_lock("p", &new_run()).unwrap_err();
        match err {
            StoreError::LockHeld { holder, .. } => assert_eq!(holder.run_id, first.run_id),
            other => panic!("unexpected {other}"),
        }
        store.release_lock("p", first.run_id).unwrap();
        store.start_run_with_lock("p", &new_run()).unwrap();
    }

    #[test]
    fn a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let first = store.start_run_with_lock("p", &new_run()).unwrap();
        // Pretend the holder's process was replaced by another with the same pid.
        store
            .conn()
            .execute("UPDATE locks SET process_start = -1", [])
            .unwrap();
        let second = store.start_run_with_lock("p", &new_run()).unwrap();
        assert_eq!(second.took_over_from, Some(first.run_id));
        let old = store.run(first.run_id).unwrap().unwrap();
        assert_eq!(old.status, crate::store::RunStatus::Interrupted);
    }
}
