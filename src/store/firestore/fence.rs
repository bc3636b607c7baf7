//! The fencing check, as one commit. Every write this process makes to the lock document
//! (a renewal, a mutating step's intent, a fenced state write, the release) carries a
//! precondition on the lock's update time as this process last wrote it. Anyone else who
//! writes the lock (a machine taking it over after the lease ran out) changes that time, so
//! the next commit of the old holder is refused whole, and it learns it lost the lease before
//! the change it was about to journal leaves. No transaction, no read: one round trip.
//!
//! The lock's last update time is held in an async mutex for the length of each such commit,
//! so the renewal task and the script's steps of one process never refuse each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use super::fields::{int, map};
use super::pending::{Deferred, commit_carrying};
use crate::clients::firestore::{
    Committed, Document, DocumentPath, FieldValue, Fields, Firestore, WriteOp,
};
use crate::clients::google_error::GoogleError;
use crate::store::now_ms;

/// How often a fenced commit refused while the lock still names this lease is made again
/// (its update time moved for a reason of this process's own, such as a lost answer).
const ATTEMPTS: usize = 4;

/// A lock this process holds.
pub(in crate::store) struct Lease {
    pub(super) name: String,
    pub(super) path: DocumentPath,
    pub(super) run: i64,
    pub(super) token: i64,
    lost: AtomicBool,
    stopped: AtomicBool,
    next_seq: AtomicI64,
    /// The lock document's update time as this process last wrote it.
    last_update: tokio::sync::Mutex<jiff::Timestamp>,
}

/// Why a fenced commit did not land.
pub(super) enum FenceFailure {
    /// The lock no longer names this lease (what it holds now, if it still exists).
    Lost(Option<Document>),
    /// The call failed.
    Call(GoogleError),
}

impl Lease {
    /// The lease of `run` on lock `name` with fencing `token`, whose document was written at
    /// `written`.
    pub(super) fn new(
        name: &str,
        path: DocumentPath,
        run: i64,
        token: i64,
        written: jiff::Timestamp,
    ) -> Self {
        Self {
            name: name.to_owned(),
            path,
            run,
            token,
            lost: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            next_seq: AtomicI64::new(0),
            last_update: tokio::sync::Mutex::new(written),
        }
    }

    pub(super) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    pub(super) fn mark_lost(&self) {
        self.lost.store(true, Ordering::SeqCst);
    }

    pub(super) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Whether the lock document `doc` still names this lease's run and token.
    pub(super) fn is_named_by(&self, doc: Option<&Document>) -> bool {
        doc.is_some_and(|d| {
            int(&d.fields, "run") == Some(self.run) && int(&d.fields, "token") == Some(self.token)
        })
    }

    /// The next step's sequence number: only the holder writes its run's steps.
    pub(super) fn next_seq(&self) -> i64 {
        self.next_seq.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The fields of a renewal for `length` from now.
    pub(super) fn renewal(length: Duration) -> Fields {
        map([(
            "lease_expires_at",
            FieldValue::Integer(now_ms() + length.as_millis() as i64),
        )])
    }
}

/// Commits the deferred journal writes, `ops`, and `lock_fields` written to the lock, in one
/// commit that lands only if nobody else wrote the lock since this process last did; the
/// update times of `ops`. A refused commit marks the lease lost when the lock names someone
/// else now (nothing of it landed; the deferred writes wait for the next commit).
pub(super) async fn commit_fenced(
    client: &Firestore,
    deferred: &Deferred,
    lease: &Lease,
    ops: Vec<WriteOp>,
    lock_fields: Fields,
) -> Result<Committed, FenceFailure> {
    let mut last_update = lease.last_update.lock().await;
    for _ in 0..ATTEMPTS {
        let mut writes = ops.clone();
        writes.push(WriteOp::UpdateIfUnchanged {
            path: lease.path.clone(),
            fields: lock_fields.clone(),
            last_update: *last_update,
        });
        let error = match commit_carrying(client, deferred, writes).await {
            Ok(mut committed) => {
                if let Some(Some(written)) = committed.update_times.pop() {
                    *last_update = written;
                }
                return Ok(committed);
            }
            Err(error) => error,
        };
        if error.code != "FAILED_PRECONDITION" {
            return Err(FenceFailure::Call(error));
        }
        let now = client
            .get(&lease.path, None)
            .await
            .map_err(FenceFailure::Call)?;
        if !lease.is_named_by(now.as_ref()) {
            lease.mark_lost();
            return Err(FenceFailure::Lost(now));
        }
        match now.and_then(|d| d.update_time) {
            // Refused for another reason than the lock: say so.
            Some(seen) if seen == *last_update => return Err(FenceFailure::Call(error)),
            Some(seen) => *last_update = seen,
            None => return Err(FenceFailure::Call(error)),
        }
    }
    Err(FenceFailure::Call(GoogleError::internal(
        crate::clients::firestore::SERVICE,
        format!("the lock document kept changing under {ATTEMPTS} fenced commits"),
    )))
}

/// Renews `lease` every third of `length` until it is released or lost, carrying the
/// deferred journal writes; a renewal that finds another holder marks the lease lost, so
/// the next mutating step fails fast.
pub(super) async fn renew_in_background(
    client: Arc<Firestore>,
    deferred: Arc<Deferred>,
    lease: Arc<Lease>,
    length: Duration,
) {
    let period = length / 3;
    loop {
        tokio::time::sleep(period).await;
        if lease.stopped.load(Ordering::SeqCst) {
            return;
        }
        match commit_fenced(
            &client,
            &deferred,
            &lease,
            Vec::new(),
            Lease::renewal(length),
        )
        .await
        {
            Ok(_) => {}
            Err(FenceFailure::Lost(_)) => {
                tracing::error!(
                    "lost the lease on lock '{}' (run {}): another machine took it over; this run makes no further change",
                    lease.name,
                    lease.run
                );
                return;
            }
            // A renewal that could not be made is tried again; the lease runs out on its own
            // if Firestore stays out of reach, and the next mutating step checks it.
            Err(FenceFailure::Call(e)) => {
                tracing::warn!("could not renew the lease on lock '{}': {e}", lease.name)
            }
        }
    }
}
