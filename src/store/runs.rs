//! The `runs` table: one row per playbook run, from start to outcome.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{RunId, RunMode, RunStatus, Store, StoreError, now_ms};
use crate::process::{Liveness, ProcessIdentity};
use crate::secret::mask::mask;

/// What is known of a run when it starts.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// The playbook file, as the operator named it.
    pub playbook: String,
    /// SHA-256 of the playbook source, so a resume can tell the file changed.
    pub source_hash: String,
    /// The `--arg` map as JSON.
    pub args_json: String,
    /// Apply or plan.
    pub mode: RunMode,
    /// The run this one resumes (`orchestra resume`).
    pub resumes: Option<RunId>,
}

/// A run as stored.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Its id.
    pub id: RunId,
    /// The playbook file.
    pub playbook: String,
    /// SHA-256 of the playbook source at start.
    pub source_hash: String,
    /// The `--arg` map as JSON.
    pub args: serde_json::Value,
    /// Apply or plan.
    pub mode: RunMode,
    /// Where it stands.
    pub status: RunStatus,
    /// The process that ran it.
    pub pid: u32,
    /// The host it ran on.
    pub host: String,
    /// Start time, ms since the epoch.
    pub started_at: i64,
    /// End time, ms since the epoch.
    pub finished_at: Option<i64>,
    /// The error it ended with (redacted).
    pub error: Option<String>,
    /// The run this one resumes.
    pub resumes: Option<RunId>,
}

const COLUMNS: &str = "id, playbook, source_hash, args, mode, status, pid, host, started_at, finished_at, error, resumes";

/// How far `resume_chain` walks: far beyond any real chain, and a stop should the table ever
/// hold a loop.
const MAX_CHAIN: usize = 1000;

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<RunRecord, StoreError>> {
    let mode: String = row.get(4)?;
    let status: String = row.get(5)?;
    let args: String = row.get(3)?;
    let record = (|| {
        Ok(RunRecord {
            id: RunId(row.get(0)?),
            playbook: row.get(1)?,
            source_hash: row.get(2)?,
            args: serde_json::from_str(&args).unwrap_or(serde_json::Value::Null),
            mode: RunMode::parse(&mode).ok_or_else(|| corrupt("mode", &mode))?,
            status: RunStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            pid: row.get(6)?,
            host: row.get(7)?,
            started_at: row.get(8)?,
            finished_at: row.get(9)?,
            error: row.get(10)?,
            resumes: row.get::<_, Option<i64>>(11)?.map(RunId),
        })
    })();
    match record {
        Err(StoreError::Sql(e)) => Err(e),
        other => Ok(other),
    }
}

fn corrupt(column: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt {
        table: "runs",
        column,
        value: value.to_owned(),
    }
}

impl Store {
    /// Inserts a run in state `running` for the current process (inside a lock's transaction).
    pub(super) fn insert_run(
        tx: &rusqlite::Transaction<'_>,
        run: &NewRun,
        me: &ProcessIdentity,
    ) -> Result<RunId, StoreError> {
        tx.execute(
            "INSERT INTO runs (playbook, source_hash, args, mode, status, pid, host, process_start, started_at, resumes)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8, ?9)",
            params![
                run.playbook,
                run.source_hash,
                mask(&run.args_json),
                run.mode.as_str(),
                me.pid,
                me.host,
                me.start_ticks.map(|t| t as i64),
                now_ms(),
                run.resumes.map(|r| r.0)
            ],
        )?;
        Ok(RunId(tx.last_insert_rowid()))
    }

    /// Records how a run ended.
    pub fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            return shared.finish_run(id, status, error);
        }
        self.conn().execute(
            "UPDATE runs SET status = ?2, finished_at = ?3, error = ?4 WHERE id = ?1",
            params![
                id.0,
                status.as_str(),
                now_ms(),
                error.map(|e| mask(e).into_owned())
            ],
        )?;
        Ok(())
    }

    /// One run by id.
    pub fn run(&self, id: RunId) -> Result<Option<RunRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.run(id);
        }
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"),
                [id.0],
                from_row,
            )
            .optional()?;
        found.transpose()
    }

    /// The runs `first` continues: `first` itself, the run it resumes, and so on up to the run
    /// that started the chain (nearest first). A run that is not a resume is a chain of one; an
    /// id with no run yields an empty chain.
    pub fn resume_chain(&self, first: RunId) -> Result<Vec<RunId>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.resume_chain(first);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT resumes FROM runs WHERE id = ?1")?;
        let mut chain = Vec::new();
        let mut next = Some(first);
        while let Some(id) = next {
            if chain.len() >= MAX_CHAIN || chain.contains(&id) {
                break;
            }
            let Some(parent) = stmt
                .query_row([id.0], |row| row.get::<_, Option<i64>>(0))
                .optional()?
            else {
                break;
            };
            chain.push(id);
            next = parent.map(RunId);
        }
        Ok(chain)
    }

    /// The newest `limit` runs, newest first.
    pub fn recent_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.recent_runs(limit);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], from_row)?;
        rows.map(|r| r.map_err(StoreError::from).and_then(|r| r))
            .collect()
    }

    /// Marks as `interrupted` every `running` run whose process on this host is gone, and
    /// frees the locks they held. Returns the ids it marked.
    pub fn reap_dead_runs(&self) -> Result<Vec<RunId>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.reap_dead_runs();
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let candidates: Vec<(i64, ProcessIdentity)> = {
            let mut stmt = tx.prepare(
                "SELECT id, pid, host, process_start FROM runs WHERE status = 'running'",
            )?;
            stmt.query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    ProcessIdentity {
                        pid: row.get(1)?,
                        host: row.get(2)?,
                        start_ticks: row.get::<_, Option<i64>>(3)?.map(|t| t as u64),
                    },
                ))
            })?
            .collect::<Result<_, _>>()?
        };
        let mut reaped = Vec::new();
        for (id, process) in candidates {
            if process.liveness() == Liveness::Dead {
                tx.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ?2,
                     error = COALESCE(error, 'the process running it died before it finished')
                     WHERE id = ?1",
                    params![id, now_ms()],
                )?;
                tx.execute("DELETE FROM locks WHERE run_id = ?1", [id])?;
                reaped.push(RunId(id));
            }
        }
        tx.commit()?;
        Ok(reaped)
    }

    /// Marks as `failed`, with `reason`, every run still `running` that process `pid` of this
    /// host started, and frees its locks: for a parent that saw that child process die (a
    /// crash, a signal) before it could record its own outcome. Returns the ids it marked.
    pub fn fail_runs_of_dead_child(
        &self,
        pid: u32,
        reason: &str,
    ) -> Result<Vec<RunId>, StoreError> {
        if let Some(shared) = &self.shared {
            return shared.fail_runs_of_dead_child(pid, reason);
        }
        let host = ProcessIdentity::current().host;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare(
                "SELECT id FROM runs WHERE status = 'running' AND pid = ?1 AND host = ?2",
            )?;
            stmt.query_map(params![pid, host], |row| row.get(0))?
                .collect::<Result<_, _>>()?
        };
        for id in &ids {
            tx.execute(
                "UPDATE runs SET status = 'failed', finished_at = ?2, error = ?3 WHERE id = ?1",
                params![id, now_ms(), mask(reason).into_owned()],
            )?;
            tx.execute("DELETE FROM locks WHERE run_id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(ids.into_iter().map(RunId).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(store: &Store, resumes: Option<RunId>) -> RunId {
        let run = NewRun {
            playbook: "p.rhai".into(),
            source_hash: "h".into(),
            args_json: "{}".into(),
            mode: RunMode::Apply,
            resumes,
        };
        let id = store.start_run_with_lock("p", &run).unwrap().run_id;
        store.finish_run(id, RunStatus::Interrupted, None).unwrap();
        store.release_lock("p", id).unwrap();
        id
    }

    #[test]
    fn a_resume_of_a_resume_walks_back_to_the_run_that_started_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let root = start(&store, None);
        let unrelated = start(&store, None);
        let first = start(&store, Some(root));
        let second = start(&store, Some(first));
        assert_eq!(
            store.resume_chain(second).unwrap(),
            vec![second, first, root]
        );
        assert_eq!(store.resume_chain(unrelated).unwrap(), vec![unrelated]);
        assert_eq!(store.run(second).unwrap().unwrap().resumes, Some(first));
        assert!(store.resume_chain(RunId(999)).unwrap().is_empty());
    }
}
