//! Runs in `{prefix}_runs`: recorded by the lock's transaction (`leases`), finished,
//! listed, walked back through their resumes, and reaped when their process died here.

use super::fields::{document_id, int, map, opt_string, string, text};
use super::{FirestoreState, padded};
use crate::clients::firestore::{
    Direction, Document, FieldValue, Filter, FilterOp, Order, Query, WriteOp,
};
use crate::process::{Liveness, ProcessIdentity};
use crate::secret::mask::mask;
use crate::store::{RunId, RunMode, RunRecord, RunStatus, StoreError, now_ms};

/// How far `resume_chain` walks, as with SQLite.
const MAX_CHAIN: usize = 1000;

fn corrupt(column: &'static str, value: String) -> StoreError {
    StoreError::Corrupt {
        table: "runs",
        column,
        value,
    }
}

/// A run document as a record.
pub(super) fn record(doc: &Document) -> Result<RunRecord, StoreError> {
    let f = &doc.fields;
    let id = int(f, "id").ok_or_else(|| corrupt("id", doc.path.to_string()))?;
    let mode = text(f, "mode").unwrap_or_default();
    let status = text(f, "status").unwrap_or_default();
    Ok(RunRecord {
        id: RunId(id),
        playbook: text(f, "playbook").unwrap_or_default(),
        source_hash: text(f, "source_hash").unwrap_or_default(),
        args: text(f, "args")
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or(serde_json::Value::Null),
        mode: RunMode::parse(&mode).ok_or_else(|| corrupt("mode", mode.clone()))?,
        status: RunStatus::parse(&status).ok_or_else(|| corrupt("status", status.clone()))?,
        pid: int(f, "pid")
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0),
        host: text(f, "machine").unwrap_or_default(),
        started_at: int(f, "started_at").unwrap_or(0),
        finished_at: int(f, "finished_at"),
        error: text(f, "error"),
        resumes: int(f, "resumes").map(RunId),
    })
}

impl FirestoreState {
    /// See [`crate::store::Store::finish_run`].
    pub(in crate::store) fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let op = WriteOp::Update {
            path: self.doc("runs", &padded(id.0))?,
            fields: map([
                ("status", string(status.as_str())),
                ("finished_at", FieldValue::Integer(now_ms())),
                ("error", opt_string(error.map(|e| mask(e).into_owned()))),
            ]),
        };
        self.commit(vec![op])
    }

    /// See [`crate::store::Store::run`].
    pub(in crate::store) fn run(&self, id: RunId) -> Result<Option<RunRecord>, StoreError> {
        let path = self.doc("runs", &padded(id.0))?;
        let doc = self
            .block(self.client.get(&path, None))
            .map_err(|e| self.failed(e))?;
        doc.as_ref().map(record).transpose()
    }

    /// See [`crate::store::Store::resume_chain`].
    pub(in crate::store) fn resume_chain(&self, first: RunId) -> Result<Vec<RunId>, StoreError> {
        let mut chain = Vec::new();
        let mut next = Some(first);
        while let Some(id) = next {
            if chain.len() >= MAX_CHAIN || chain.contains(&id) {
                break;
            }
            let Some(run) = self.run(id)? else { break };
            chain.push(id);
            next = run.resumes;
        }
        Ok(chain)
    }

    /// See [`crate::store::Store::recent_runs`].
    pub(in crate::store) fn recent_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let query = Query {
            collection: self.collection("runs")?,
            filters: Vec::new(),
            order_by: vec![Order {
                field: "id".into(),
                direction: Direction::Descending,
            }],
            limit: Some(i32::try_from(limit).unwrap_or(i32::MAX)),
            start_after: None,
        };
        let docs = self
            .block(self.client.query(&query, None))
            .map_err(|e| self.failed(e))?;
        docs.iter().map(record).collect()
    }

    /// Every run still `running`, on any machine.
    fn running(&self) -> Result<Vec<Document>, StoreError> {
        self.documents(
            "runs",
            vec![Filter {
                field: "status".into(),
                op: FilterOp::Equal,
                value: string("running"),
            }],
        )
    }

    /// The runs still `running` that this machine started, with their process.
    fn running_here(&self) -> Result<Vec<(RunId, ProcessIdentity)>, StoreError> {
        let docs = self.running()?;
        let host = ProcessIdentity::current().host;
        Ok(docs
            .iter()
            .filter(|d| text(&d.fields, "machine").as_deref() == Some(self.machine.as_str()))
            .filter_map(|d| {
                let id = int(&d.fields, "id")?;
                let process = ProcessIdentity {
                    pid: u32::try_from(int(&d.fields, "pid")?).ok()?,
                    host: host.clone(),
                    start_ticks: int(&d.fields, "process_start").map(|t| t as u64),
                };
                Some((RunId(id), process))
            })
            .collect())
    }

    /// Ends runs with `status` and `error`; their locks are taken over at the next
    /// acquisition (the same machine sees the holder dead).
    fn end_runs(&self, ids: &[RunId], status: &str, error: &str) -> Result<(), StoreError> {
        for id in ids {
            let op = WriteOp::Update {
                path: self.doc("runs", &padded(id.0))?,
                fields: map([
                    ("status", string(status)),
                    ("finished_at", FieldValue::Integer(now_ms())),
                    ("error", string(mask(error).into_owned())),
                ]),
            };
            self.block(self.client.write(&op))
                .map_err(|e| self.failed(e))?;
        }
        Ok(())
    }

    /// Runs still `running` on other machines whose lock no longer vouches for them: its
    /// lease ran out (the holder stopped renewing: killed, paused, cut off) or it names
    /// another run now. Such a run can no longer journal a change (its fencing token is
    /// stale), so it is over, and a resume elsewhere may start.
    fn lapsed_elsewhere(&self) -> Result<Vec<RunId>, StoreError> {
        let now = now_ms();
        let mut lapsed = Vec::new();
        for doc in self.running()? {
            let f = &doc.fields;
            if text(f, "machine").as_deref() == Some(self.machine.as_str()) {
                continue;
            }
            let (Some(id), Some(lock)) = (int(f, "id"), text(f, "lock")) else {
                continue;
            };
            let path = self.doc("locks", &document_id(&lock))?;
            let held = self
                .block(self.client.get(&path, None))
                .map_err(|e| self.failed(e))?
                .is_some_and(|l| {
                    int(&l.fields, "run") == Some(id)
                        && int(&l.fields, "lease_expires_at").is_some_and(|t| t > now)
                });
            if !held {
                lapsed.push(RunId(id));
            }
        }
        Ok(lapsed)
    }

    /// See [`crate::store::Store::reap_dead_runs`]: this machine's runs by their process,
    /// other machines' by their lease.
    pub(in crate::store) fn reap_dead_runs(&self) -> Result<Vec<RunId>, StoreError> {
        let dead: Vec<RunId> = self
            .running_here()?
            .into_iter()
            .filter(|(_, process)| process.liveness() == Liveness::Dead)
            .map(|(id, _)| id)
            .collect();
        self.end_runs(
            &dead,
            "interrupted",
            "the process running it died before it finished",
        )?;
        let lapsed = self.lapsed_elsewhere()?;
        self.end_runs(
            &lapsed,
            "interrupted",
            "its machine stopped renewing the lease on its lock before it finished",
        )?;
        Ok(dead.into_iter().chain(lapsed).collect())
    }

    /// See [`crate::store::Store::fail_runs_of_dead_child`].
    pub(in crate::store) fn fail_runs_of_dead_child(
        &self,
        pid: u32,
        reason: &str,
    ) -> Result<Vec<RunId>, StoreError> {
        let ids: Vec<RunId> = self
            .running_here()?
            .into_iter()
            .filter(|(_, process)| process.pid == pid)
            .map(|(id, _)| id)
            .collect();
        self.end_runs(&ids, "failed", reason)?;
        Ok(ids)
    }
}
