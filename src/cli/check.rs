//! `orchestra check`: compile playbooks and report every problem, running nothing.

use std::path::Path;
use std::sync::Arc;

use clap::Args;
use serde::Serialize;

use super::render;
use crate::config::Config;
use crate::engine::{self, RunContext, ScriptDiagnostic};
use crate::error::HostError;
use crate::exit::ExitStatus;

/// Arguments of `orchestra check`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra check playbooks/*.rhai
  orchestra check rotate_keys --json")]
pub struct CheckArgs {
    /// Playbooks to check: paths, or names looked up in the playbooks folder
    #[arg(required = true)]
    playbooks: Vec<String>,

    /// Print the findings as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct FileReport {
    playbook: String,
    ok: bool,
    problems: Vec<ScriptDiagnostic>,
}

/// Runs `orchestra check`.
pub fn run(args: &CheckArgs, config: Arc<Config>, cwd: &Path) -> Result<ExitStatus, HostError> {
    let mut reports = Vec::new();
    for name in &args.playbooks {
        let report = match engine::playbook::locate(name, cwd, &config)
            .and_then(|path| engine::playbook::read(&path))
        {
            Ok(source) => {
                let shown = source.shown.clone();
                let context = RunContext::builder(Arc::clone(&config)).build();
                let problems = match engine::prepare(source, &context, rhai::Map::new()) {
                    Ok(_) => Vec::new(),
                    Err(problems) => problems,
                };
                FileReport {
                    playbook: shown,
                    ok: problems.is_empty(),
                    problems,
                }
            }
            Err(err) => {
                if !args.json {
                    render::host_error(&HostError::from(err));
                }
                FileReport {
                    playbook: name.clone(),
                    ok: false,
                    problems: Vec::new(),
                }
            }
        };
        reports.push(report);
    }
    let failed = reports.iter().filter(|r| !r.ok).count();
    if args.json {
        render::json(&reports);
    } else {
        for report in &reports {
            for problem in &report.problems {
                render::diagnostic(problem);
            }
        }
        eprintln!(
            "checked {} playbook(s): {}",
            reports.len(),
            if failed == 0 {
                "all compile".to_owned()
            } else {
                format!("{failed} with problems")
            }
        );
    }
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Usage
    })
}
