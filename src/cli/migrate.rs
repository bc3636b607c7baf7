//! `orchestra migrate`: a phased migration described by `migration.toml` — init, status,
//! execute, verify, skip, report and a live monitor. The work lives in [`crate::migrate`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::migrate::execute::{self, ExecuteOutcome};
use crate::migrate::verify::{self, Verdict};
use crate::migrate::{self, MigrateError, Migration, monitor, report};
use crate::runner::Host;
use crate::store::now_ms;

/// Arguments of `orchestra migrate`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra migrate init --project cherry-ai-project
  orchestra migrate status
  orchestra migrate execute
  orchestra migrate execute --phase MEMORY_SYSTEM
  orchestra migrate verify            # exit 0 as declared, 2 drift, 1 error
  orchestra migrate skip AI_CODING --why \"assistants are set up by each developer\"
  orchestra migrate report --out migration-report.md
  orchestra migrate monitor")]
pub struct MigrateArgs {
    /// The migration file
    #[arg(long, global = true, default_value = migrate::DEFAULT_FILE)]
    file: PathBuf,

    #[command(subcommand)]
    action: MigrateAction,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Write migration.toml with the seven phases, and the bundled phase playbooks that are missing
    Init {
        /// The Google Cloud project the migration moves to
        #[arg(long)]
        project: String,
        /// Overwrite an existing migration.toml (playbooks that exist are never overwritten)
        #[arg(long)]
        force: bool,
    },
    /// The phase table: phase, status, started, took, metrics
    Status {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Run the pending phases in order (or one phase), stopping at the first failure
    Execute {
        /// Run only this phase (again, whatever its status), once the phases it depends on are done
        #[arg(long)]
        phase: Option<String>,
    },
    /// Run every verify playbook in plan mode: exit 0 as declared, 2 drift found, 1 error
    Verify {
        /// Verify only this phase
        #[arg(long)]
        phase: Option<String>,
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Mark a phase skipped, with the reason (phases depending on it may then run)
    Skip {
        /// The phase
        phase: String,
        /// Why it is skipped (shown by status and the report)
        #[arg(long)]
        why: String,
    },
    /// Markdown report: phases, timeline, metrics, failures, skipped phases, next steps
    Report {
        /// Write it to this file (atomically) instead of stdout
        #[arg(long)]
        out: Option<PathBuf>,
        /// JSON instead of Markdown (with a format_version)
        #[arg(long)]
        json: bool,
    },
    /// Redraw the phase table, a running phase's current step and its metrics, until Ctrl-C
    Monitor {
        /// How often to redraw
        #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
        every: Duration,
        /// Stop after this long instead of waiting for Ctrl-C
        #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration)]
        for_: Option<Duration>,
    },
}

impl MigrateArgs {
    /// Whether this is `migrate verify`, whose every error exits 1 (as Terraform's detailed
    /// exit code), so that a bad configuration is never mistaken for drift (2).
    pub fn is_verify(&self) -> bool {
        matches!(self.action, MigrateAction::Verify { .. })
    }
}

/// Runs `orchestra migrate`.
pub fn run(args: &MigrateArgs, host: &Host) -> Result<ExitStatus, HostError> {
    let file = host.cwd.join(&args.file);
    if let MigrateAction::Init { project, force } = &args.action {
        let done = migrate::init(&file, project, *force, &host.config.stdlib_dir())?;
        for path in &done.written {
            println!("wrote {}", shown(host, path));
        }
        for path in &done.kept {
            println!("kept {} (it exists)", shown(host, path));
        }
        println!(
            "next: review {}, then `orchestra migrate execute`",
            shown(host, &file)
        );
        return Ok(ExitStatus::Success);
    }
    let migration = Migration::load(&file)?;
    match &args.action {
        MigrateAction::Init { .. } => Ok(ExitStatus::Success),
        MigrateAction::Status { json } => {
            host.store.reap_dead_runs()?;
            let phases = migrate::phase_views(&host.store, &migration)?;
            if *json {
                render::json(&phases);
            } else {
                print!("{}", report::status_table(&phases, now_ms()));
            }
            Ok(ExitStatus::Success)
        }
        MigrateAction::Execute { phase } => {
            let outcome = execute::execute(host, &migration, phase.as_deref())?;
            print_execute(&outcome);
            Ok(outcome.exit_status())
        }
        MigrateAction::Verify { phase, json } => {
            let outcome = verify::verify(host, &migration, phase.as_deref())?;
            if *json {
                render::json(&outcome);
            } else {
                print_verify(&outcome);
            }
            Ok(outcome.exit_status())
        }
        MigrateAction::Skip { phase, why } => {
            if why.trim().is_empty() {
                return Err(HostError::Usage(
                    "--why: expected a reason, found nothing".into(),
                ));
            }
            execute::skip(&host.store, &migration, phase, why)?;
            println!("{phase}: skipped ({why})");
            Ok(ExitStatus::Success)
        }
        MigrateAction::Report { out, json } => {
            host.store.reap_dead_runs()?;
            let built = report::build(&host.store, &migration, now_ms())?;
            let text = if *json {
                let mut text = serde_json::to_string_pretty(&built)
                    .map_err(|e| HostError::Io(format!("cannot render the report: {e}")))?;
                text.push('\n');
                text
            } else {
                report::markdown(&built)
            };
            match out {
                Some(out) => {
                    let path = host.cwd.join(out);
                    crate::scan::atomic::write(&path, &text).map_err(|e| {
                        HostError::from(MigrateError::Write {
                            file: path.clone(),
                            reason: e.to_string(),
                        })
                    })?;
                    eprintln!("wrote {}", shown(host, &path));
                }
                None => print!("{text}"),
            }
            Ok(ExitStatus::Success)
        }
        MigrateAction::Monitor { every, for_ } => {
            monitor::watch(
                &host.store,
                &migration,
                *every,
                *for_,
                &host.cancel,
                std::io::stdout().is_terminal(),
            )?;
            Ok(ExitStatus::Success)
        }
    }
}

fn shown(host: &Host, path: &std::path::Path) -> String {
    path.strip_prefix(&host.cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn print_execute(outcome: &ExecuteOutcome) {
    if outcome.phases.is_empty() {
        println!("nothing to execute: every phase is completed, skipped or unknown");
    }
    for phase in &outcome.phases {
        let runs: Vec<String> = phase.runs.iter().map(ToString::to_string).collect();
        let runs = if runs.is_empty() {
            String::new()
        } else {
            format!(" (runs {})", runs.join(", "))
        };
        match &phase.detail {
            Some(detail) => println!("{}: {}{runs}: {detail}", phase.phase, phase.status),
            None => println!("{}: {}{runs}", phase.phase, phase.status),
        }
    }
}

fn print_verify(outcome: &verify::VerifyOutcome) {
    for phase in &outcome.phases {
        match (&phase.detail, phase.verdict) {
            (Some(detail), Verdict::Unknown | Verdict::Error | Verdict::Skipped) => {
                println!("{}: {}: {detail}", phase.phase, phase.verdict.as_str());
            }
            _ => println!("{}: {}", phase.phase, phase.verdict.as_str()),
        }
        for drift in &phase.drift {
            println!("  - {drift}");
        }
    }
}
