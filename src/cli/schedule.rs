//! `orchestra schedule install | list | remove`: playbook runs in the user's crontab.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::render;
use crate::config::Config;
use crate::engine::{self, RunContext};
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::schedule::Interval;
use crate::schedule::crontab::{self, Crontab, shell_quote};

/// Arguments of `orchestra schedule`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra schedule install monitor_rate_limits --every 15m
  orchestra schedule install rotate_service_account_keys --every 1d --arg account=deployer
  orchestra schedule list
  orchestra schedule remove monitor_rate_limits
Lines orchestra writes end in `# orchestra-schedule:ID`; other lines are never touched.")]
pub struct ScheduleArgs {
    #[command(subcommand)]
    action: ScheduleAction,

    /// A crontab file to edit instead of the user's crontab [env: ORCHESTRA_CRONTAB]
    #[arg(long, global = true)]
    crontab: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ScheduleAction {
    /// Add (or replace) a crontab line that runs a playbook
    Install {
        /// The playbook: a path, or a name looked up in the playbooks folder
        playbook: String,
        /// How often: whole minutes dividing an hour, whole hours dividing a day, or 1d
        #[arg(long)]
        every: Interval,
        /// An argument for the playbook (repeatable)
        #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = super::play::parse_arg)]
        args: Vec<(String, String)>,
        /// Run as a plan: list changes, make none
        #[arg(long)]
        plan: bool,
        /// The schedule's id [default: the playbook name, plus a hash of the args]
        #[arg(long)]
        name: Option<String>,
    },
    /// List the schedules orchestra installed
    List {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove a schedule by id
    Remove {
        /// The id `orchestra schedule list` shows
        id: String,
    },
}

/// Runs `orchestra schedule`.
pub fn run(args: &ScheduleArgs, config: Arc<Config>, cwd: &Path) -> Result<ExitStatus, HostError> {
    let tab = Crontab::choose(args.crontab.as_deref().map(|p| cwd.join(p)).as_deref());
    let io = |e: crontab::CrontabError| HostError::Io(e.to_string());
    match &args.action {
        ScheduleAction::Install {
            playbook,
            every,
            args: pairs,
            plan,
            name,
        } => {
            let cron = every.cron_expression().map_err(HostError::Usage)?;
            check_compiles(playbook, &config, cwd)?;
            let id = name
                .clone()
                .unwrap_or_else(|| default_id(playbook, pairs, *plan));
            if id.is_empty() || id.chars().any(char::is_whitespace) {
                return Err(HostError::Usage(format!(
                    "schedule id must be non-empty without spaces, found '{id}'"
                )));
            }
            let command = command_line(&config, cwd, playbook, pairs, *plan, &id)?;
            let text = tab.read().map_err(io)?;
            let replacing = crontab::entries(&text).iter().any(|e| e.id == id);
            tab.write(&crontab::upsert(&text, &id, &cron, &command))
                .map_err(io)?;
            eprintln!(
                "{} schedule {id}: {playbook} every {every} ({cron})",
                if replacing { "replaced" } else { "installed" }
            );
        }
        ScheduleAction::List { json } => {
            let entries = crontab::entries(&tab.read().map_err(io)?);
            if *json {
                render::json(&entries);
            } else if entries.is_empty() {
                println!("no schedules installed");
            } else {
                for entry in entries {
                    println!("{:<32}  {:<14}  {}", entry.id, entry.cron, entry.command);
                }
            }
        }
        ScheduleAction::Remove { id } => {
            let text = tab.read().map_err(io)?;
            let without = crontab::remove(&text, id)
                .ok_or_else(|| HostError::Usage(format!("no schedule with id '{id}'")))?;
            tab.write(&without).map_err(io)?;
            eprintln!("removed schedule {id}");
        }
    }
    Ok(ExitStatus::Success)
}

/// A schedule for a broken playbook would fail every time: refuse it now.
fn check_compiles(playbook: &str, config: &Arc<Config>, cwd: &Path) -> Result<(), HostError> {
    let path = engine::playbook::locate(playbook, cwd, config)?;
    let source = engine::playbook::read(&path)?;
    let context = RunContext::builder(Arc::clone(config)).build();
    engine::prepare(source, &context, rhai::Map::new()).map_err(|diagnostics| {
        HostError::Compile {
            file: engine::playbook::display_path(&path),
            diagnostics,
        }
    })?;
    Ok(())
}

fn default_id(playbook: &str, pairs: &[(String, String)], plan: bool) -> String {
    let stem = Path::new(playbook)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| playbook.to_owned());
    if pairs.is_empty() && !plan {
        return stem;
    }
    let mut hasher = DefaultHasher::new();
    pairs.hash(&mut hasher);
    plan.hash(&mut hasher);
    format!("{stem}-{:08x}", hasher.finish() as u32)
}

fn command_line(
    config: &Config,
    cwd: &Path,
    playbook: &str,
    pairs: &[(String, String)],
    plan: bool,
    id: &str,
) -> Result<String, HostError> {
    let exe = std::env::current_exe()
        .map_err(|e| HostError::Io(format!("cannot find the orchestra binary: {e}")))?;
    let state_db = config.resolve(&config.paths.state_db);
    let log = state_db.with_file_name(format!("schedule-{id}.log"));
    // The shell opens the log before orchestra runs: its folder must exist already.
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| HostError::Io(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut words = vec![
        "cd".to_owned(),
        shell_quote(&cwd.display().to_string()),
        "&&".to_owned(),
        shell_quote(&exe.display().to_string()),
        "-q".to_owned(),
    ];
    if let Some(file) = &config.source_file {
        words.push("--config".into());
        words.push(shell_quote(&file.display().to_string()));
    }
    words.push("--state-db".into());
    words.push(shell_quote(&state_db.display().to_string()));
    words.push("play".into());
    words.push(shell_quote(playbook));
    for (key, value) in pairs {
        words.push("--arg".into());
        words.push(shell_quote(&format!("{key}={value}")));
    }
    if plan {
        words.push("--plan".into());
    }
    words.push(">>".into());
    words.push(shell_quote(&log.display().to_string()));
    words.push("2>&1".into());
    let line = words.join(" ");
    // cron treats an unescaped % as a newline.
    Ok(line.replace('%', r"\%"))
}
