//! `orchestra play`: run a playbook once, as a plan, or on every save.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::emulated::Emulation;
use super::render;
use crate::config::Config;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::{self, Host, PlayRequest};
use crate::store::RunMode;

/// Arguments of `orchestra play`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra play rotate_keys.rhai                    # bare names are looked up in playbooks/
  orchestra play playbooks/hello.rhai --arg greeting=hi
  orchestra play hello --plan                        # list every change, make none
  orchestra play hello --watch                       # rerun (as a plan) on every save
  orchestra play hello --watch --apply               # rerun for real on every save")]
pub struct PlayArgs {
    /// The playbook: a path, or a name looked up in the playbooks folder
    playbook: String,

    /// An argument for the playbook, seen by it as `args.KEY` (repeatable)
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_arg)]
    args: Vec<(String, String)>,

    /// Make no change: run reads for real, list every change the playbook would make
    #[arg(long, conflicts_with = "apply")]
    plan: bool,

    /// With --watch: make changes on every rerun (otherwise --watch plans only)
    #[arg(long, requires = "watch")]
    apply: bool,

    /// Rerun whenever the playbook, a module it imports or orchestra.toml is saved
    #[arg(long)]
    watch: bool,

    /// Lock name shared with other playbooks [default: one lock per playbook file]
    #[arg(long)]
    lock: Option<String>,

    /// Time-out for the run, e.g. 90s or 20m [default: [limits].timeout]
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<std::time::Duration>,

    /// Print the outcome as JSON on stdout (the playbook's prints go to stderr)
    #[arg(long)]
    json: bool,

    /// Run against the built-in emulator (in this process, on a random port, with its demo
    /// fixtures and credentials): nothing outside this machine is reached
    #[arg(long)]
    emulate: bool,

    /// With --emulate: load the emulator's state from this file at start and save it after
    /// every change, so a plan and the apply after it see the same keys and secrets
    #[arg(long, value_name = "FILE", requires = "emulate")]
    emulate_state: Option<PathBuf>,
}

/// Parses `KEY=VALUE` for `--arg`.
pub fn parse_arg(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, found '{text}'"))?;
    let valid = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!(
            "argument name '{key}' must be letters, digits and _ (not starting with a digit)"
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// Where the configuration came from (`--config`, `--profile`), so that `--watch` reads it
/// again the same way on every save.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigSource<'a> {
    /// The file `--config` named; `orchestra.toml` in the working directory when `None`.
    pub file: Option<&'a Path>,
    /// The profile `--profile` (or `ORCHESTRA_PROFILE`) named.
    pub profile: Option<&'a str>,
}

/// Runs `orchestra play`.
pub fn run(
    args: &PlayArgs,
    host: &Host,
    source: &ConfigSource<'_>,
) -> Result<ExitStatus, HostError> {
    let mode = if args.plan || (args.watch && !args.apply && !args.emulate) {
        RunMode::Plan
    } else {
        RunMode::Apply
    };
    let emulation = if args.emulate {
        let state_file = args.emulate_state.as_ref().map(|p| host.cwd.join(p));
        Some(Emulation::start(host, &args.playbook, state_file)?)
    } else {
        None
    };
    let services = emulation
        .as_ref()
        .map_or_else(|| Arc::clone(&host.services), Emulation::services);
    let host = &Host {
        services,
        ..with_timeout(host, None, &host.config)
    };
    let outcome = run_with(args, host, source, mode, request_from(args, mode));
    if let Some(emulation) = emulation {
        emulation.stop(&host.runtime);
    }
    outcome
}

fn request_from(args: &PlayArgs, mode: RunMode) -> PlayRequest {
    PlayRequest {
        playbook: args.playbook.clone(),
        args: args.args.clone(),
        mode,
        lock: args.lock.clone(),
        prints_to_stderr: args.json,
        resumes: None,
        on_start: None,
    }
}

fn run_with(
    args: &PlayArgs,
    host: &Host,
    source: &ConfigSource<'_>,
    mode: RunMode,
    mut request: PlayRequest,
) -> Result<ExitStatus, HostError> {
    if !args.watch {
        let host = with_timeout(host, args.timeout, &host.config);
        let report = runner::play(&host, &request)?;
        show(&report, args, &host.config);
        return Ok(report.exit_status());
    }

    if mode == RunMode::Plan {
        eprintln!(
            "watch: plan mode, changes are listed and never made; add --apply to make them on every save"
        );
    }
    request.mode = mode;
    let mut last = ExitStatus::Success;
    crate::watch::watch(&host.cancel, || {
        // orchestra.toml may have changed since the last run: read it again, under the
        // profile the command line named (else the detected environment's, as at start).
        let config = match Config::load_with_profile(source.file, &host.cwd, source.profile) {
            Ok(mut config) => {
                config.paths.state_db = host.config.paths.state_db.clone();
                Arc::new(config)
            }
            Err(err) => {
                render::host_error(&HostError::from(err));
                return host.config.source_file.iter().cloned().collect();
            }
        };
        let iteration_host = with_timeout(host, args.timeout, &config);
        match runner::play(&iteration_host, &request) {
            Ok(report) => {
                show(&report, args, &config);
                last = report.exit_status();
                report.files
            }
            Err(err) => {
                render::host_error(&err);
                last = err.exit_status();
                let mut files: Vec<_> =
                    crate::engine::playbook::locate(&request.playbook, &host.cwd, &config)
                        .into_iter()
                        .collect();
                files.extend(config.source_file.iter().cloned());
                files
            }
        }
    })?;
    Ok(if host.cancel.load(std::sync::atomic::Ordering::Relaxed) {
        ExitStatus::Success
    } else {
        last
    })
}

/// How a run ended; a plan's GitHub changes with the least time GitHub's limits allow them.
fn show(report: &runner::RunReport, args: &PlayArgs, config: &Config) {
    render::run_report(report, args.json);
    if report.mode == RunMode::Plan && !args.json {
        let settings = crate::clients::pacing::PaceSettings::from_limits(&config.limits, 1.0);
        if let Some(line) = super::plan_estimate::github_estimate(&report.changes, &settings) {
            print!("{line}");
        }
    }
}

fn with_timeout(host: &Host, timeout: Option<std::time::Duration>, config: &Arc<Config>) -> Host {
    let mut config = Config::clone(config);
    if let Some(timeout) = timeout {
        config.limits.timeout = timeout;
    }
    Host {
        config: Arc::new(config),
        store: host.store.clone(),
        runtime: host.runtime.clone(),
        cancel: Arc::clone(&host.cancel),
        cwd: host.cwd.clone(),
        services: Arc::clone(&host.services),
    }
}
