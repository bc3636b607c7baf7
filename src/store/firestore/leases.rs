//! Locks as leases. A lock document names its holder (run, machine, pid, process start),
//! when the lease runs out, and a fencing token that grows by one on every acquisition.
//!
//! - Taking a lock is one transaction that reads the lock and the run-id counter and writes
//!   the lock, the counter and the new run together. A holder on another machine keeps the
//!   lock until its lease runs out; on this machine a dead holder (pid gone, or reused with
//!   another start time) is taken over at once and a live one keeps it, as with SQLite.
//! - The holder renews the lease from a background task every third of its length, and
//!   every mutating step is journaled, in one commit fenced on the lock's update time
//!   (`fence`): a holder that lost its lease (a paused VM, a partition) learns it there and
//!   stops before it changes anything.
//! - A lock is released by clearing its holder, fenced the same way; the document (and its
//!   token) stays.

use std::sync::Arc;

use serde::Serialize;

use super::fence::{FenceFailure, Lease, commit_fenced, renew_in_background};
use super::fields::{document_id, int, map, opt_int, string, text};
use super::{FirestoreState, padded};
use crate::clients::firestore::{
    Document, DocumentPath, FieldValue, TransactionId, WriteOp, is_contention,
};
use crate::clients::google_error::GoogleError;
use crate::process::{Liveness, ProcessIdentity};
use crate::secret::mask::mask;
use crate::store::{AcquiredRun, LockHolder, NewRun, RunId, StoreError, format_ms, now_ms};

/// How often a transaction that lost to a concurrent writer is run again.
const ATTEMPTS: usize = 8;

/// A lock as `orchestra state status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LockStatus {
    /// The lock's name.
    pub name: String,
    /// Who holds it.
    pub holder: LockHolder,
    /// The machine of the holder.
    pub machine: String,
    /// The fencing token of the current holder (Firestore only).
    pub token: Option<i64>,
}

/// The holder a lock document names, when it is held.
fn holder_of(doc: &Document) -> Option<(LockHolder, String)> {
    let f = &doc.fields;
    let run = int(f, "run")?;
    let machine = text(f, "machine").unwrap_or_default();
    Some((
        LockHolder {
            run_id: RunId(run),
            process: ProcessIdentity {
                pid: int(f, "pid")
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or(0),
                host: machine.clone(),
                start_ticks: int(f, "process_start").map(|t| t as u64),
            },
            acquired_at: format_ms(int(f, "acquired_at").unwrap_or(0)),
            lease_expires_at: int(f, "lease_expires_at").map(format_ms),
        },
        machine,
    ))
}

impl FirestoreState {
    /// Whether the holder recorded in `doc` still holds it at `now`.
    fn still_held(&self, doc: &Document, holder: &LockHolder, machine: &str, now: i64) -> bool {
        if machine == self.machine {
            // Same machine: the pid and start-time check, as with SQLite.
            let here = ProcessIdentity {
                host: ProcessIdentity::current().host,
                ..holder.process.clone()
            };
            here.liveness() != Liveness::Dead
        } else {
            int(&doc.fields, "lease_expires_at").unwrap_or(0) > now
        }
    }

    /// See [`crate::store::Store::start_run_with_lock`].
    pub(in crate::store) fn start_run_with_lock(
        &self,
        name: &str,
        run: &NewRun,
    ) -> Result<AcquiredRun, StoreError> {
        let unreachable = |e: GoogleError| StoreError::LockUnavailable {
            name: name.to_owned(),
            place: self.place.clone(),
            reason: e.to_string(),
        };
        let lock_path = self.doc("locks", &document_id(name))?;
        let counter_path = self.doc("meta", "run_ids")?;
        let me = ProcessIdentity::current();
        let (acquired, token, written) = self.block(async {
            let mut retrying: Option<TransactionId> = None;
            for _ in 0..ATTEMPTS {
                let tx = self
                    .client
                    .begin(retrying.as_ref())
                    .await
                    .map_err(unreachable)?;
                let planned = self
                    .plan_acquisition(&tx, name, run, &me, &lock_path, &counter_path)
                    .await;
                let (ops, acquired, token) = match planned {
                    Ok(planned) => planned,
                    Err(err) => {
                        self.client.rollback(&tx).await;
                        return Err(err);
                    }
                };
                match self.client.commit_transaction(&tx, &ops).await {
                    // The lock is the last write: its update time is what every fenced
                    // commit of this lease checks.
                    Ok(committed) => match committed.update_times.last().copied().flatten() {
                        Some(written) => return Ok((acquired, token, written)),
                        None => {
                            return Err(StoreError::LockUnavailable {
                                name: name.to_owned(),
                                place: self.place.clone(),
                                reason: "Firestore did not say when it wrote the lock".into(),
                            });
                        }
                    },
                    Err(e) if is_contention(&e) => retrying = Some(tx),
                    Err(e) => return Err(unreachable(e)),
                }
            }
            Err(StoreError::LockUnavailable {
                name: name.to_owned(),
                place: self.place.clone(),
                reason: format!("{ATTEMPTS} attempts lost to concurrent writers"),
            })
        })?;
        let lease = Arc::new(Lease::new(
            name,
            lock_path,
            acquired.run_id.0,
            token,
            written,
        ));
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(acquired.run_id.0, Arc::clone(&lease));
        self.handle.spawn(renew_in_background(
            Arc::clone(&self.client),
            Arc::clone(&self.deferred),
            lease,
            self.lease,
        ));
        Ok(acquired)
    }

    /// Reads the lock and the counter inside `tx`; the writes that take the lock.
    async fn plan_acquisition(
        &self,
        tx: &TransactionId,
        name: &str,
        run: &NewRun,
        me: &ProcessIdentity,
        lock_path: &DocumentPath,
        counter_path: &DocumentPath,
    ) -> Result<(Vec<WriteOp>, AcquiredRun, i64), StoreError> {
        let unreachable = |e: GoogleError| StoreError::LockUnavailable {
            name: name.to_owned(),
            place: self.place.clone(),
            reason: e.to_string(),
        };
        let lock = self
            .client
            .get(lock_path, Some(tx))
            .await
            .map_err(unreachable)?;
        let counter = self
            .client
            .get(counter_path, Some(tx))
            .await
            .map_err(unreachable)?;
        let now = now_ms();
        let mut ops = Vec::new();
        let mut took_over_from = None;
        let mut token = 1;
        if let Some(doc) = &lock {
            token = int(&doc.fields, "token").unwrap_or(0) + 1;
            if let Some((holder, machine)) = holder_of(doc) {
                if self.still_held(doc, &holder, &machine, now) {
                    return Err(StoreError::LockHeld {
                        name: name.to_owned(),
                        holder: Box::new(holder),
                    });
                }
                let old_path = self.doc("runs", &padded(holder.run_id.0))?;
                let old = self
                    .client
                    .get(&old_path, Some(tx))
                    .await
                    .map_err(unreachable)?;
                if old.is_some_and(|d| text(&d.fields, "status").as_deref() == Some("running")) {
                    let reason = if machine == self.machine {
                        "the process running it died before it finished".to_owned()
                    } else {
                        format!("its lease on machine {machine} ran out before it finished")
                    };
                    ops.push(WriteOp::Update {
                        path: old_path,
                        fields: map([
                            ("status", string("interrupted")),
                            ("finished_at", FieldValue::Integer(now)),
                            ("error", string(reason)),
                        ]),
                    });
                }
                took_over_from = Some(holder.run_id);
            }
        }
        let id = counter
            .as_ref()
            .and_then(|c| int(&c.fields, "next"))
            .unwrap_or(1)
            .max(1);
        ops.push(WriteOp::Set {
            path: counter_path.clone(),
            fields: map([("next", FieldValue::Integer(id + 1))]),
            merge: false,
        });
        let start = me.start_ticks.map(|t| t as i64);
        ops.push(WriteOp::Set {
            path: self.doc("runs", &padded(id))?,
            fields: map([
                ("id", FieldValue::Integer(id)),
                ("playbook", string(run.playbook.clone())),
                ("source_hash", string(run.source_hash.clone())),
                ("args", string(mask(&run.args_json).into_owned())),
                ("mode", string(run.mode.as_str())),
                ("status", string("running")),
                ("pid", FieldValue::Integer(i64::from(me.pid))),
                ("machine", string(self.machine.clone())),
                ("process_start", opt_int(start)),
                ("started_at", FieldValue::Integer(now)),
                ("finished_at", FieldValue::Null),
                ("error", FieldValue::Null),
                ("resumes", opt_int(run.resumes.map(|r| r.0))),
                ("lock", string(name)),
            ]),
            merge: false,
        });
        ops.push(WriteOp::Set {
            path: lock_path.clone(),
            fields: map([
                ("name", string(name)),
                ("run", FieldValue::Integer(id)),
                ("machine", string(self.machine.clone())),
                ("pid", FieldValue::Integer(i64::from(me.pid))),
                ("process_start", opt_int(start)),
                ("acquired_at", FieldValue::Integer(now)),
                (
                    "lease_expires_at",
                    FieldValue::Integer(now + self.lease.as_millis() as i64),
                ),
                ("token", FieldValue::Integer(token)),
            ]),
            merge: false,
        });
        Ok((
            ops,
            AcquiredRun {
                run_id: RunId(id),
                took_over_from,
            },
            token,
        ))
    }

    /// See [`crate::store::Store::release_lock`]: clears the holder if it is still `run_id`
    /// with this process's token; a lock another machine took over is left alone.
    pub(in crate::store) fn release_lock(
        &self,
        name: &str,
        run_id: RunId,
    ) -> Result<(), StoreError> {
        let lease = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&run_id.0);
        let Some(lease) = lease else {
            return Ok(());
        };
        lease.stop();
        if lease.is_lost() {
            // Another machine holds it now: nothing of ours to clear, nothing more to write.
            self.forsake(&lease);
            return Ok(());
        }
        if lease.name != name {
            return Ok(());
        }
        let now = now_ms();
        let release = map([
            ("run", FieldValue::Null),
            ("lease_expires_at", FieldValue::Integer(now)),
            ("released_at", FieldValue::Integer(now)),
        ]);
        match self.block(commit_fenced(
            &self.client,
            &self.deferred,
            &lease,
            Vec::new(),
            release,
        )) {
            Ok(_) => Ok(()),
            // Another machine holds it now: nothing of ours to clear, and the run's journal
            // writes still waiting are never written.
            Err(FenceFailure::Lost(_)) => {
                self.forsake(&lease);
                Ok(())
            }
            Err(FenceFailure::Call(e)) => Err(self.failed(e)),
        }
    }

    /// The error of a holder whose lease was taken.
    pub(super) fn lost(&self, lease: &Lease, now: Option<&Document>) -> StoreError {
        let by = now
            .and_then(holder_of)
            .map(|(h, machine)| {
                format!(
                    "run {} on {machine} (pid {}) holds it now",
                    h.run_id, h.process.pid
                )
            })
            .unwrap_or_else(|| "it is free now".to_owned());
        StoreError::LeaseLost {
            name: lease.name.clone(),
            run_id: RunId(lease.run),
            detail: format!("fencing token {} is no longer current; {by}", lease.token),
        }
    }

    /// Every lock that has a holder, by name.
    pub(in crate::store) fn lock_statuses(&self) -> Result<Vec<LockStatus>, StoreError> {
        let docs = self.documents("locks", Vec::new())?;
        let mut locks: Vec<LockStatus> = docs
            .iter()
            .filter_map(|doc| {
                let (holder, machine) = holder_of(doc)?;
                Some(LockStatus {
                    name: text(&doc.fields, "name").unwrap_or_else(|| doc.path.id().to_owned()),
                    holder,
                    machine,
                    token: int(&doc.fields, "token"),
                })
            })
            .collect();
        locks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(locks)
    }
}
