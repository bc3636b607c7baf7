//! `--emulate` for the commands that run a playbook (`play`, `resume`): the built-in emulator
//! in this process (its state kept in a file when asked), the installed Firestore emulator when
//! the playbook needs it, and the [`Services`] that point at them. Knows nothing of how a run
//! goes; the caller runs the playbook between [`Emulation::start`] and [`Emulation::stop`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::error::HostError;
use crate::firestore_emulator::FirestoreEmulator;
use crate::runner::Host;
use crate::services::{Endpoints, Services};

/// The emulators one run talks to.
pub(super) struct Emulation {
    emulator: orchestra_emulator::RunningEmulator,
    firestore: Option<FirestoreEmulator>,
}

impl Emulation {
    /// Starts the built-in emulator (loading and saving `state_file` when given) and, when
    /// `playbook` or a stdlib module it imports calls `firestore::` or `memory::`, the
    /// installed Firestore emulator; says on stderr what each one is.
    pub(super) fn start(
        host: &Host,
        playbook: &str,
        state_file: Option<PathBuf>,
    ) -> Result<Self, HostError> {
        let emulator = start_emulator(&host.runtime, &host.config, state_file)?;
        let firestore = if needs_firestore(playbook, host) {
            let started = FirestoreEmulator::start().map_err(HostError::Io)?;
            eprintln!(
                "emulate: Firestore is the installed Firestore emulator at {} (pid {}), started for this playbook",
                started.host(),
                started.pid()
            );
            Some(started)
        } else {
            None
        };
        eprintln!(
            "emulate: GitHub, Secret Manager, IAM, Monitoring and Slack are the built-in emulator at {}",
            emulator.base_url()
        );
        Ok(Self {
            emulator,
            firestore,
        })
    }

    /// The clients' endpoints and credentials: the emulators', with their demo credentials.
    pub(super) fn services(&self) -> Arc<Services> {
        let services = Services::new(Endpoints::Emulated {
            base_url: self.emulator.base_url(),
            github_token: self.emulator.demo_credentials().github_token,
        });
        Arc::new(match &self.firestore {
            Some(firestore) => services.with_firestore_emulator(firestore.host()),
            None => services,
        })
    }

    /// Shuts the emulators down (the built-in one saves its state file first).
    pub(super) fn stop(self, runtime: &tokio::runtime::Handle) {
        runtime.block_on(self.emulator.shutdown());
        if let Some(firestore) = self.firestore {
            let pid = firestore.pid();
            drop(firestore);
            eprintln!("emulate: stopped the Firestore emulator (pid {pid})");
        }
    }
}

/// Whether the playbook, or a stdlib module it imports, calls `firestore::` or `memory::`.
fn needs_firestore(playbook: &str, host: &Host) -> bool {
    let Ok(path) = crate::engine::playbook::locate(playbook, &host.cwd, &host.config) else {
        return false;
    };
    let Ok(source) = std::fs::read_to_string(&path) else {
        return false;
    };
    let mut sources = vec![source.clone()];
    if let Ok(entries) = std::fs::read_dir(host.config.stdlib_dir()) {
        for entry in entries.flatten() {
            let module = entry.path();
            let imported = module
                .file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|stem| source.contains(&format!("\"{stem}\"")));
            if imported && let Ok(text) = std::fs::read_to_string(&module) {
                sources.push(text);
            }
        }
    }
    crate::firestore_emulator::needed_by(&sources)
}

/// Starts the built-in emulator in this process, on the clock `config` paces on, keeping its
/// state in `state_file` when one is given.
pub(super) fn start_emulator(
    runtime: &tokio::runtime::Handle,
    config: &Config,
    state_file: Option<PathBuf>,
) -> Result<orchestra_emulator::RunningEmulator, HostError> {
    runtime
        .block_on(orchestra_emulator::start(
            orchestra_emulator::EmulatorConfig {
                // The emulator's limits run on the clock orchestra paces on.
                limits: orchestra_emulator::LimitSettings {
                    time_scale: config.limits.time_scale,
                    secret_puts_are_content: config.limits.github_secret_puts_are_content,
                    ..orchestra_emulator::LimitSettings::default()
                },
                state_file,
                ..orchestra_emulator::EmulatorConfig::default()
            },
        ))
        .map_err(|e| HostError::Io(format!("cannot start the emulator: {e}")))
}
