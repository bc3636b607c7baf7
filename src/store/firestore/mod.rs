//! The Firestore backend: runs, the journal (steps), events, locks, playbook state (kv), the
//! sync ledger, circuit breakers, alert conditions, rate-limit and budget history and
//! migration phase state, shared by every machine that names the same project, database and
//! prefix. Locks are leases with fencing
//! tokens (see `leases`); run ids come from one counter document, so they stay unique across
//! machines and short (`orchestra resume 42` works everywhere).
//!
//! Document shapes, one collection per family (`P` is `[state].prefix`):
//!
//! | collection | id | fields |
//! | --- | --- | --- |
//! | `P_meta` | `run_ids`, `phase_run_ids` | `next` (the next run id, the next phase-run id) |
//! | `P_locks` | the lock name, percent-encoded | `name`, `run` (null when free), `machine`, `pid`, `process_start`, `acquired_at`, `lease_expires_at`, `token` |
//! | `P_runs` | the run id, 20 digits | `id`, `playbook`, `source_hash`, `args`, `mode`, `status`, `pid`, `machine`, `process_start`, `started_at`, `finished_at`, `error`, `resumes`, `lock` |
//! | `P_steps` | `RUN-SEQ` | `run`, `seq`, `primitive`, `effect`, `target`, `status`, `detail`, `started_at`, `finished_at` |
//! | `P_events` | `RUN-AT-N` | `run`, `n`, `at`, `level`, `message` |
//! | `P_kv` | the row key, percent-encoded | `key` (sealed: `k1:` + a keyed hash of the name), `value` (sealed: `s1:` + ciphertext), `updated_at`, `updated_by_run` |
//! | `P_ledger` | secret, target and GitHub name, each percent-encoded, joined by `~` | `gcp_secret`, `target`, `github_name`, `fingerprint`, `gcp_version`, `github_updated_at`, `direction`, `synced_at`, `synced_by_run`, `pending_kind`, `pending_fingerprint`, `pending_since`, `pending_github_updated_at` |
//! | `P_breakers` | the breaker name, percent-encoded | `name`, `state` (`closed`, `open`, `half_open`), `failures`, `threshold`, `recovery_ms`, `opened_at`, `last_error` (masked), `updated_at` |
//! | `P_rate_limits` | check time (20 digits), machine, then credential `~` resource, each percent-encoded, joined by `-` | `run_id`, `checked_at`, `credential`, `kind`, `resource`, `limit`, `remaining`, `used`, `reset_at`, `burn_per_hour` (double or null), `exhausts_at` |
//! | `P_rate_limits_latest` | credential `~` resource, percent-encoded | the fields of that pair's newest `P_rate_limits` document |
//! | `P_budget` | check time (20 digits), machine (percent-encoded), then `p{pid}-{n}` (a check this process made) or `m{row}` (a SQLite row `state migrate` copied), joined by `-` | `machine`, `run_id`, `checked_at`, `kind`, `project`, `period_start`, `month`, `month_zone`, `as_of`, `spent_usd`, `budget_usd`, `alert_at`, `projected_usd`, `level`, `estimate_usd`, `within`, `unpriced` (array of model names), `per_model` (array of maps: `model`, `input_tokens`, `output_tokens`, `cost_usd`) |
//! | `P_alerts` | the condition key, percent-encoded | `key`, `severity`, `message` (masked), `changed_at`, `last_sent_at`, `unsent` (masked, null once delivered) |
//! | `P_migration_phase_runs` | the phase-run id, 20 digits | `id`, `migration`, `file`, `phase`, `kind` (`execute`, `verify`, `skip`), `status`, `run_id`, `pid`, `host`, `machine`, `process_start`, `started_at`, `finished_at`, `error` (masked), `error_at`, `reason` (masked), `migrated_from` (copies only) |
//! | `P_migration_metrics` | recording time (20 digits), machine (percent-encoded), pid and a per-process sequence, joined by `-` (copies: time, source and SQLite row id) | `migration`, `phase` (null: migration-wide), `name`, `value` (double), `run_id`, `at`, `machine` |
//!
//! A step costs one commit: a mutation's intent carries the fencing check on the lock
//! (`fence`), and reads, outcomes and events wait to ride on the next commit (`pending`).
//! While a process holds a lease every commit it makes is fenced on it, and once it knows
//! the lease is lost it writes nothing more for that run, journal records included (`lost`).
//!
//! A breaker's transition is a read-modify-write committed only if the breaker's document is
//! unchanged since it was read (`breakers`), so two machines never lose a failure or both take
//! the half-open trial. Memory still stays in the SQLite file of each machine.
//!
//! Times are ms since the epoch (integers), as in SQLite. Every text is masked before it is
//! written, as in SQLite; no secret value and no fingerprint key is ever written here.
//!
//! The store API is blocking: calls run on this backend's own small runtime (from a thread
//! outside any runtime, or a scoped thread when the caller is inside one), so the script's
//! thread and the CLI call it as they call SQLite. Knows nothing of Rhai.

mod alerts;
mod breakers;
mod budget;
mod counters;
mod events;
mod fence;
mod fields;
mod import;
mod kv;
mod leases;
mod ledger;
mod lost;
mod migration;
mod pending;
mod rate_limits;
mod runs;
mod steps;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clients::firestore::{
    Document, DocumentPath, Firestore, FirestoreSettings, WriteOp, is_precondition_failure,
};
use crate::clients::google_error::GoogleError;
use crate::clients::retry::RetryPolicy;

pub use import::ImportReport;
pub use leases::LockStatus;

use super::StoreError;
use fence::{FenceFailure, Lease, commit_fenced};
use pending::{Deferred, MAX_DEFERRED, commit_carrying};

/// What the Firestore backend needs to know.
#[derive(Clone, Debug)]
pub struct SharedSettings {
    /// Which database, and where.
    pub firestore: FirestoreSettings,
    /// The collection prefix.
    pub prefix: String,
    /// The name this machine records.
    pub machine: String,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// Retries of each call.
    pub policy: RetryPolicy,
}

/// The Firestore backend of one process.
pub struct FirestoreState {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    client: Arc<Firestore>,
    prefix: String,
    project: String,
    machine: String,
    lease: Duration,
    place: String,
    held: Mutex<HashMap<i64, Arc<Lease>>>,
    /// Runs whose lease this process lost: it writes nothing more for them (`lost`).
    lost_runs: Mutex<HashSet<i64>>,
    /// Journal writes waiting for the next commit.
    deferred: Arc<Deferred>,
    /// Set while a plan runs: writes outside the run's own record are refused.
    confined: AtomicBool,
}

impl FirestoreState {
    /// Connects to the database `settings` names (the connection itself is lazy: an
    /// unreachable database fails the first call, with [`StoreError::Shared`]).
    pub fn connect(settings: SharedSettings) -> Result<Self, StoreError> {
        let place = format!(
            "Firestore (project {}, database {})",
            settings.firestore.project, settings.firestore.database
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("orchestra-state")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Shared {
                place: place.clone(),
                reason: format!("cannot start its runtime: {e}"),
            })?;
        let handle = runtime.handle().clone();
        let client = handle
            .block_on(Firestore::connect(
                &settings.firestore,
                settings.policy,
                Arc::new(|| false),
            ))
            .map_err(|e| StoreError::Unreachable {
                place: place.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            runtime: Some(runtime),
            handle,
            client: Arc::new(client),
            prefix: settings.prefix,
            project: settings.firestore.project,
            machine: settings.machine,
            lease: settings.lease,
            place,
            held: Mutex::new(HashMap::new()),
            lost_runs: Mutex::new(HashSet::new()),
            deferred: Arc::new(Deferred::default()),
            confined: AtomicBool::new(false),
        })
    }

    /// Where the state is, for messages: `Firestore (project P, database D)`.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// The Google Cloud project and the collection prefix.
    pub fn project_and_prefix(&self) -> (&str, &str) {
        (&self.project, &self.prefix)
    }

    /// The machine name this process records.
    pub fn machine(&self) -> &str {
        &self.machine
    }

    /// Runs `work` to completion on this backend's runtime and waits for it.
    fn block<T: Send>(&self, work: impl Future<Output = T> + Send) -> T {
        if tokio::runtime::Handle::try_current().is_ok() {
            // Inside a runtime a thread may not block on another: wait from a fresh thread.
            std::thread::scope(|scope| {
                scope
                    .spawn(|| self.handle.block_on(work))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        } else {
            self.handle.block_on(work)
        }
    }

    /// `{prefix}_{family}/{id}`.
    fn doc(&self, family: &str, id: &str) -> Result<DocumentPath, StoreError> {
        DocumentPath::parse(&format!("{}_{family}/{id}", self.prefix)).map_err(|e| {
            StoreError::Shared {
                place: self.place.clone(),
                reason: e.to_string(),
            }
        })
    }

    /// `{prefix}_{family}`.
    fn collection(
        &self,
        family: &str,
    ) -> Result<crate::clients::firestore::CollectionPath, StoreError> {
        crate::clients::firestore::CollectionPath::parse(&format!("{}_{family}", self.prefix))
            .map_err(|e| StoreError::Shared {
                place: self.place.clone(),
                reason: e.to_string(),
            })
    }

    /// Every document of `{prefix}_{family}` whose `run` field is `run` (steps, events).
    fn documents_of_run(
        &self,
        family: &str,
        run: i64,
    ) -> Result<Vec<crate::clients::firestore::Document>, StoreError> {
        use crate::clients::firestore::{FieldValue, Filter, FilterOp};
        // This process's own journal writes first, so that it reads what it wrote (a run
        // that lost its lease has none to write: its reads still answer).
        match self.flush() {
            Ok(()) | Err(StoreError::LeaseLost { .. }) => {}
            Err(e) => return Err(e),
        }
        self.documents(
            family,
            vec![Filter {
                field: "run".into(),
                op: FilterOp::Equal,
                value: FieldValue::Integer(run),
            }],
        )
    }

    /// Every document of `{prefix}_{family}` that passes `filters`, unordered.
    fn documents(
        &self,
        family: &str,
        filters: Vec<crate::clients::firestore::Filter>,
    ) -> Result<Vec<crate::clients::firestore::Document>, StoreError> {
        let query = crate::clients::firestore::Query {
            collection: self.collection(family)?,
            filters,
            order_by: Vec::new(),
            limit: None,
            start_after: None,
        };
        self.block(self.client.query(&query, None))
            .map_err(|e| self.failed(e))
    }

    /// Deletes `{prefix}_{family}/{id}`; whether it existed. One commit and no read: the
    /// delete requires the document to exist, so a refusal says there was none. It goes
    /// alone, without the journal writes waiting, so that a refusal can only mean that.
    fn delete_if_present(&self, family: &str, id: &str) -> Result<bool, StoreError> {
        self.refuse_in_plan(family)?;
        let path = self.doc(family, id)?;
        match self.block(
            self.client
                .commit_writes(&[WriteOp::DeleteExisting { path }]),
        ) {
            Ok(_) => Ok(true),
            Err(e) if is_precondition_failure(&e) => Ok(false),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// A document field that is missing (`value` "missing") or of the wrong shape, named with
    /// the table it stands for, the document and the database it was read from.
    fn corrupt_field(
        &self,
        table: &'static str,
        doc: &Document,
        column: &'static str,
        value: &str,
    ) -> StoreError {
        StoreError::Corrupt {
            table,
            column,
            value: format!("{value} (in {}, {})", doc.path.as_str(), self.place),
        }
    }

    /// A failed call, named with the database it went to.
    fn failed(&self, error: GoogleError) -> StoreError {
        if error.code == "UNAVAILABLE" {
            return StoreError::Unreachable {
                place: self.place.clone(),
                reason: error.to_string(),
            };
        }
        StoreError::Shared {
            place: self.place.clone(),
            reason: error.to_string(),
        }
    }

    /// Refuses or allows writes outside the run's own record (see
    /// [`crate::store::Store::confine_to_run_records`]).
    pub(in crate::store) fn confine(&self, confined: bool) {
        self.confined.store(confined, Ordering::SeqCst);
    }

    /// A plan's write to `{prefix}_{family}`, refused as SQLite's authorizer refuses it.
    fn refuse_in_plan(&self, family: &str) -> Result<(), StoreError> {
        if !self.confined.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(StoreError::Shared {
            place: self.place.clone(),
            reason: format!(
                "a plan writes nothing but its own run record, and this wrote {}_{family}",
                self.prefix
            ),
        })
    }

    /// Commits `ops` (with the journal writes waiting). While this process holds a lease
    /// the commit is fenced on it, so a holder that lost its lease makes no change at all
    /// (nor lets its waiting journal writes land); with none it is a plain commit.
    fn commit(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() && self.deferred.is_empty() {
            return Ok(());
        }
        if let Some(lease) = self.sole_lease() {
            return self.commit_fenced(&lease, ops);
        }
        self.block(commit_carrying(&self.client, &self.deferred, ops))
            .map(|_| ())
            .map_err(|e| self.failed(e))
    }

    /// Commits `ops` (with the journal writes waiting) fenced on `lease`, renewing it. A
    /// lease known lost commits nothing; one found lost here is forsaken (`lost`).
    fn commit_fenced(&self, lease: &Lease, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if lease.is_lost() {
            self.forsake(lease);
            return Err(self.lost(lease, None));
        }
        let renewal = Lease::renewal(self.lease);
        match self.block(commit_fenced(
            &self.client,
            &self.deferred,
            lease,
            ops,
            renewal,
        )) {
            Ok(_) => Ok(()),
            Err(FenceFailure::Lost(now)) => {
                // The run stops, and what it had not written yet is never written.
                self.forsake(lease);
                Err(self.lost(lease, now.as_ref()))
            }
            Err(FenceFailure::Call(e)) => Err(self.failed(e)),
        }
    }

    /// Commits `ops` in transaction `tx`: true when done, false when another machine wrote
    /// first (the caller decides again in a new transaction), else the failure.
    async fn commit_or_lose(
        &self,
        tx: &crate::clients::firestore::TransactionId,
        ops: &[WriteOp],
    ) -> Result<bool, StoreError> {
        match self.client.commit_transaction(tx, ops).await {
            Ok(_) => Ok(true),
            Err(e) if crate::clients::firestore::is_contention(&e) => Ok(false),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Adds a journal write that may wait for the next commit; commits them when many wait.
    /// A journal write of a run that lost its lease is dropped instead.
    fn defer(&self, op: WriteOp) -> Result<(), StoreError> {
        if self.is_forsaken(&op) {
            tracing::debug!(
                "not written (its run lost its lease): {}",
                op.path().as_str()
            );
            return Ok(());
        }
        if self.deferred.push(op) >= MAX_DEFERRED {
            self.flush()?;
        }
        Ok(())
    }

    /// Commits the journal writes waiting, if any.
    fn flush(&self) -> Result<(), StoreError> {
        self.commit(Vec::new())
    }

    fn lease_of(&self, run: i64) -> Option<Arc<Lease>> {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&run)
            .cloned()
    }
}

impl Drop for FirestoreState {
    fn drop(&mut self) {
        let lost: Vec<Arc<Lease>> = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|lease| lease.is_lost())
            .cloned()
            .collect();
        for lease in &lost {
            self.forsake(lease);
        }
        if let Err(e) = self.flush() {
            tracing::warn!("could not write the last journal entries: {e}");
        }
        for lease in self.held.lock().unwrap_or_else(|p| p.into_inner()).values() {
            lease.stop();
        }
        if let Some(runtime) = self.runtime.take() {
            // Allowed anywhere, unlike dropping a runtime inside another.
            runtime.shutdown_background();
        }
    }
}

/// A document id for `n` that sorts as the number does.
fn padded(n: i64) -> String {
    format!("{n:020}")
}
