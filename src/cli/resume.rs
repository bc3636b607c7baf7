//! `orchestra resume RUN_ID`: run an interrupted or failed run's playbook again with the same
//! arguments, so it converges from what the stores and the journal show. Refuses when the
//! playbook changed since that run started (as Terraform refuses a stale plan), unless --force.
//! A run made with `play --emulate` is resumed with `--emulate` (and the same
//! `--emulate-state FILE`), so it converges against the emulator state the interrupted run left.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::emulated::Emulation;
use super::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::{self, Host, PlayRequest};
use crate::store::{RunId, RunStatus};

/// Arguments of `orchestra resume`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra resume 42
  orchestra resume 42 --force     # the playbook changed since run 42 started, and that is fine
  orchestra resume 42 --emulate --emulate-state emulator.json   # run 42 was a play --emulate")]
pub struct ResumeArgs {
    /// The run to resume
    id: RunId,

    /// Resume even though the playbook's source changed since the run started
    #[arg(long)]
    force: bool,

    /// Print the outcome as JSON on stdout
    #[arg(long)]
    json: bool,

    /// Resume against the built-in emulator, as `play --emulate` runs: nothing outside this
    /// machine is reached
    #[arg(long)]
    emulate: bool,

    /// With --emulate: load the emulator's state from this file at start and save it after
    /// every change (give the file the interrupted `play --emulate-state` wrote)
    #[arg(long, value_name = "FILE", requires = "emulate")]
    emulate_state: Option<PathBuf>,
}

/// Runs `orchestra resume`.
pub fn run(args: &ResumeArgs, host: &Host) -> Result<ExitStatus, HostError> {
    host.store.reap_dead_runs()?;
    let record = host
        .store
        .run(args.id)?
        .ok_or_else(|| HostError::Usage(format!("no run with id {}", args.id)))?;
    match record.status {
        RunStatus::Succeeded => {
            return Err(HostError::Usage(format!(
                "run {} succeeded: there is nothing to resume",
                args.id
            )));
        }
        RunStatus::Running => {
            return Err(HostError::Usage(format!(
                "run {} is still running (pid {} on {})",
                args.id, record.pid, record.host
            )));
        }
        RunStatus::Failed | RunStatus::Interrupted => {}
    }
    let path = crate::engine::playbook::locate(&record.playbook, &host.cwd, &host.config)?;
    let source = crate::engine::playbook::read(&path)?;
    if source.hash != record.source_hash && !args.force {
        return Err(HostError::Usage(format!(
            "{} changed since run {} started (its source hash differs): review the change, then resume with --force",
            record.playbook, args.id
        )));
    }
    let pairs: Vec<(String, String)> = record
        .args
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    eprintln!(
        "resuming run {} ({}, {}) with the same arguments",
        args.id, record.playbook, record.status
    );
    let emulation = if args.emulate {
        let state_file = args.emulate_state.as_ref().map(|p| host.cwd.join(p));
        Some(Emulation::start(host, &record.playbook, state_file)?)
    } else {
        None
    };
    let emulated_host = emulation.as_ref().map(|emulation| Host {
        config: Arc::clone(&host.config),
        store: host.store.clone(),
        runtime: host.runtime.clone(),
        cancel: Arc::clone(&host.cancel),
        cwd: host.cwd.clone(),
        services: emulation.services(),
    });
    let report = runner::play(
        emulated_host.as_ref().unwrap_or(host),
        &PlayRequest {
            playbook: record.playbook.clone(),
            args: pairs,
            mode: record.mode,
            lock: None,
            prints_to_stderr: args.json,
            resumes: Some(record.id),
            on_start: None,
        },
    );
    if let Some(emulation) = emulation {
        emulation.stop(&host.runtime);
    }
    let report = report?;
    render::run_report(&report, args.json);
    Ok(report.exit_status())
}
