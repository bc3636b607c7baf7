//! `orchestra resume RUN_ID`: run an interrupted or failed run's playbook again with the same
//! arguments, so it converges from what the stores and the journal show. Refuses when the
//! playbook changed since that run started (as Terraform refuses a stale plan), unless --force.

use clap::Args;

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
  orchestra resume 42 --force     # the playbook changed since run 42 started, and that is fine")]
pub struct ResumeArgs {
    /// The run to resume
    id: RunId,

    /// Resume even though the playbook's source changed since the run started
    #[arg(long)]
    force: bool,

    /// Print the outcome as JSON on stdout
    #[arg(long)]
    json: bool,
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
    let report = runner::play(
        host,
        &PlayRequest {
            playbook: record.playbook.clone(),
            args: pairs,
            mode: record.mode,
            lock: None,
            prints_to_stderr: args.json,
            resumes: Some(record.id),
            on_start: None,
        },
    )?;
    render::run_report(&report, args.json);
    Ok(report.exit_status())
}
