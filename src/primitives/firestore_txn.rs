//! The open transaction of `firestore::transaction`: while its body runs, `firestore::get`
//! and `query` read inside it and `set`/`update`/`delete` are gathered for its commit. The
//! script runs on one thread, so the open transaction is that thread's.

use std::cell::RefCell;

use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext};

use super::{client, remote};
use crate::clients::firestore::{TransactionId, WriteOp, is_contention};
use crate::clients::retry::{RetryPolicy, backoff, sleep_unless_cancelled};
use crate::engine::RunContext;
use crate::engine::gate::{PrimitiveError, raise};

const CALL: &str = "firestore::transaction";

struct Open {
    id: TransactionId,
    writes: Vec<WriteOp>,
}

thread_local! {
    static OPEN: RefCell<Option<Open>> = const { RefCell::new(None) };
}

/// The open transaction's id, when a body is running.
pub(super) fn current() -> Option<TransactionId> {
    OPEN.with(|open| open.borrow().as_ref().map(|o| o.id.clone()))
}

/// Adds `op` to the open transaction; false when there is none.
pub(super) fn buffer(op: &WriteOp) -> bool {
    OPEN.with(|open| match open.borrow_mut().as_mut() {
        Some(o) => {
            o.writes.push(op.clone());
            true
        }
        None => false,
    })
}

fn take() -> Option<Open> {
    OPEN.with(|open| open.borrow_mut().take())
}

/// Runs `body` in a transaction, again after each loss to a concurrent writer. Under
/// `--plan` the body runs once outside any transaction: reads are real, writes are listed.
pub(super) fn run(
    native: &NativeCallContext,
    context: &RunContext,
    body: &FnPtr,
) -> Result<Dynamic, Box<EvalAltResult>> {
    if context.is_plan() || current().is_some() {
        // A nested transaction joins the open one, as Firestore's client libraries do.
        return body.call_within_context::<Dynamic>(native, ());
    }
    let fail = |e: PrimitiveError| raise(CALL, e);
    let fs = client(context).map_err(fail)?;
    let policy = RetryPolicy::from_limits(&context.config().limits);
    let mut lost: Option<TransactionId> = None;
    for attempt in 1..=policy.max_attempts {
        let id = fs
            .block_on(fs.begin(lost.as_ref()))
            .map_err(|e| fail(remote(e)))?;
        OPEN.with(|open| {
            *open.borrow_mut() = Some(Open {
                id: id.clone(),
                writes: Vec::new(),
            })
        });
        let result = body.call_within_context::<Dynamic>(native, ());
        let open = take();
        let value = match result {
            Ok(value) => value,
            Err(err) => {
                fs.block_on(fs.rollback(&id));
                return Err(err);
            }
        };
        let writes = open.map(|o| o.writes).unwrap_or_default();
        match fs.block_on(fs.commit_transaction(&id, &writes)) {
            Ok(_) => {
                if attempt > 1 {
                    tracing::info!("firestore::transaction committed on attempt {attempt}");
                }
                return Ok(value);
            }
            Err(error) if is_contention(&error) && attempt < policy.max_attempts => {
                let wait = backoff(&policy, attempt);
                tracing::warn!(
                    "firestore::transaction lost to a concurrent writer ({error}); running it again (attempt {} of {})",
                    attempt + 1,
                    policy.max_attempts
                );
                let cancelled = context.cancellation();
                let go_on = context
                    .block_on(sleep_unless_cancelled(
                        wait,
                        "Firestore transaction contention",
                        &|| cancelled(),
                    ))
                    .map_err(|e| fail(e.into()))?;
                if !go_on {
                    return Err(fail(PrimitiveError::new(
                        "cancelled while waiting to retry the transaction",
                    )));
                }
                lost = Some(id);
            }
            Err(error) => return Err(fail(remote(error))),
        }
    }
    Err(fail(PrimitiveError::new(
        "the transaction lost to concurrent writers on every attempt",
    )))
}
