//! `orchestra state migrate --to firestore`: copies this folder's SQLite state (runs, steps,
//! events, playbook state, sync ledger, breakers, alerts, rate-limit history, migration
//! phase state) into the shared Firestore state `[state]` names, and
//! makes this folder's fingerprint key the shared one in Secret Manager, so the sealed state
//! and the ledger's fingerprints stay readable on every machine. Idempotent.

use std::sync::Arc;

use serde::Serialize;

use super::render;
use crate::clients::shared_key::{self, SharedKeyPlace};
use crate::engine::context::fingerprint_key_path;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::secret::FingerprintKey;
use crate::store::{ImportReport, StoreError};

/// What is fingerprinted to tell two keys apart without comparing (or showing) them.
const KEY_PROBE: &[u8] = b"orchestra: are these the same fingerprint key";

#[derive(Serialize)]
struct Migrated {
    to: String,
    prefix: String,
    fingerprint_key: String,
    copied: ImportReport,
}

/// Makes the local fingerprint key (when this folder has one) the shared one; where it is.
fn share_key(host: &Host, place: &SharedKeyPlace) -> Result<String, HostError> {
    let file = fingerprint_key_path(host.store.path());
    let secret = place.secret_name();
    let failed = |reason: String| {
        HostError::Store(StoreError::Shared {
            place: format!("Secret Manager ({secret})"),
            reason,
        })
    };
    if !file.exists() {
        return Ok(format!(
            "{secret} (this folder has no key file: the shared key is made on first use)"
        ));
    }
    let local = FingerprintKey::load_or_create(&file).map_err(|e| failed(e.to_string()))?;
    let client = host
        .services
        .secret_manager(&host.config, &host.runtime, Arc::new(|| false))
        .map_err(failed)?;
    let shared = host
        .runtime
        .block_on(shared_key::read_or_create(&client, place, Some(&local)))
        .map_err(|e| failed(e.to_string()))?;
    if shared.fingerprint(KEY_PROBE) != local.fingerprint(KEY_PROBE) {
        return Err(failed(format!(
            "it holds another fingerprint key than {}: this folder's sealed playbook state and ledger fingerprints would be unreadable there, so nothing was copied",
            file.display()
        )));
    }
    Ok(format!(
        "{secret} (the key of {}, which may be deleted once every machine uses the shared state)",
        file.display()
    ))
}

/// Runs `orchestra state migrate --to firestore`.
pub fn run(host: &Host, json: bool) -> Result<ExitStatus, HostError> {
    let Some((project, prefix)) = host.store.shared_project_and_prefix() else {
        return Err(HostError::Usage(
            "state migrate --to firestore copies into the shared state that [state] names: set [state] backend = \"firestore\" (and project, prefix) in orchestra.toml first".into(),
        ));
    };
    let place = SharedKeyPlace::new(project, prefix);
    let prefix = prefix.to_owned();
    let fingerprint_key = share_key(host, &place)?;
    let identity = crate::process::ProcessIdentity::current();
    let source = format!("{} {}", identity.host, host.store.path().display());
    let copied = host.store.copy_to_shared(&source)?;
    let migrated = Migrated {
        to: host.store.backend(),
        prefix,
        fingerprint_key,
        copied,
    };
    if json {
        render::json(&migrated);
    } else {
        let c = &migrated.copied;
        println!(
            "copied {} runs ({} steps, {} events), {} playbook state entries, {} ledger rows, {} breakers, {} rate-limit checks, {} alerts, {} budget checks, {} migration phase runs and {} migration metrics from {} to {}, prefix {}; run ids kept, new runs start at {}",
            c.runs,
            c.steps,
            c.events,
            c.state,
            c.ledger,
            c.breakers,
            c.rate_limits,
            c.alerts,
            c.budget,
            c.phase_runs,
            c.metrics,
            host.store.path().display(),
            migrated.to,
            migrated.prefix,
            c.next_run_id
        );
        println!("fingerprint key: {}", migrated.fingerprint_key);
    }
    Ok(ExitStatus::Success)
}
