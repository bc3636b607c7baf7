//! `orchestra runs`: recent runs, newest first, each with the migration phase it belongs to;
//! `orchestra runs show ID`: one run in full.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::store::{EventRecord, RunId, RunRecord, StepRecord, StepStatus};

/// Arguments of `orchestra runs`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra runs
  orchestra runs --limit 50 --json
  orchestra runs show 42")]
pub struct RunsArgs {
    #[command(subcommand)]
    action: Option<RunsAction>,

    /// How many runs to list
    #[arg(long, default_value_t = 20)]
    limit: u32,

    /// Print as JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum RunsAction {
    /// One run: its steps, times, outcome, and what it printed
    Show {
        /// The run id
        id: RunId,
    },
}

/// A run as `orchestra runs --json` lists it: the record and the migration phase it belongs to.
#[derive(Serialize)]
struct ListedRun<'a> {
    #[serde(flatten)]
    run: &'a RunRecord,
    phase: Option<&'a str>,
}

#[derive(Serialize)]
struct RunDetail {
    phase: Option<String>,
    run: RunRecord,
    steps: Vec<StepRecord>,
    events: Vec<EventRecord>,
    unfinished_steps: Vec<i64>,
}

/// Runs `orchestra runs`.
pub fn run(args: &RunsArgs, host: &Host) -> Result<ExitStatus, HostError> {
    for reaped in host.store.reap_dead_runs()? {
        tracing::warn!("run {reaped} was left running by a process that died; marked interrupted");
    }
    match &args.action {
        None => {
            let runs = host.store.recent_runs(args.limit)?;
            if args.json {
                let listed: Vec<ListedRun<'_>> = runs
                    .iter()
                    .map(|run| ListedRun {
                        run,
                        phase: render::migration_phase(run),
                    })
                    .collect();
                render::json(&listed);
            } else {
                print!("{}", render::runs_table(&runs));
            }
        }
        Some(RunsAction::Show { id }) => {
            let run = host
                .store
                .run(*id)?
                .ok_or_else(|| HostError::Usage(format!("no run with id {id}")))?;
            let steps = host.store.steps(*id)?;
            let events = host.store.events(*id)?;
            let unfinished_steps = steps
                .iter()
                .filter(|s| s.status == StepStatus::Started)
                .map(|s| s.seq)
                .collect();
            let detail = RunDetail {
                phase: render::migration_phase(&run).map(str::to_owned),
                run,
                steps,
                events,
                unfinished_steps,
            };
            if args.json {
                render::json(&detail);
            } else {
                print!(
                    "{}",
                    render::run_detail(&detail.run, &detail.steps, &detail.events)
                );
            }
        }
    }
    Ok(ExitStatus::Success)
}
