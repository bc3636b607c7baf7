//! `orchestra play`: run a playbook once, as a plan, or on every save.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::render;
use crate::config::Config;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::{self, Host, PlayRequest};
use crate::services::{Endpoints, Services};
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

/// Runs `orchestra play`.
pub fn run(
    args: &PlayArgs,
    host: &Host,
    config_path: Option<&Path>,
) -> Result<ExitStatus, HostError> {
    let mode = if args.plan || (args.watch && !args.apply && !args.emulate) {
        RunMode::Plan
    } else {
        RunMode::Apply
    };
    let emulator = if args.emulate {
        Some(start_emulator(
            &host.runtime,
            &host.config,
            args.emulate_state.as_ref().map(|p| host.cwd.join(p)),
        )?)
    } else {
        None
    };
    let firestore = if args.emulate && needs_firestore(&args.playbook, host) {
        let started =
            crate::firestore_emulator::FirestoreEmulator::start().map_err(HostError::Io)?;
        eprintln!(
            "emulate: Firestore is the installed Firestore emulator at {} (pid {}), started for this playbook",
            started.host(),
            started.pid()
        );
        Some(started)
    } else {
        None
    };
    let services = match &emulator {
        Some(emulator) => {
            let services = Services::new(Endpoints::Emulated {
                base_url: emulator.base_url(),
                github_token: emulator.demo_credentials().github_token,
            });
            Arc::new(match &firestore {
                Some(f) => services.with_firestore_emulator(f.host()),
                None => services,
            })
        }
        None => Arc::clone(&host.services),
    };
    let host = &Host {
        services,
        ..with_timeout(host, None, &host.config)
    };
    if let Some(emulator) = &emulator {
        eprintln!(
            "emulate: GitHub, Secret Manager, IAM, Monitoring and Slack are the built-in emulator at {}",
            emulator.base_url()
        );
    }
    let outcome = run_with(args, host, config_path, mode, request_from(args, mode));
    if let Some(emulator) = emulator {
        host.runtime.block_on(emulator.shutdown());
    }
    if let Some(firestore) = firestore {
        let pid = firestore.pid();
        drop(firestore);
        eprintln!("emulate: stopped the Firestore emulator (pid {pid})");
    }
    outcome
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
    config_path: Option<&Path>,
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
        // orchestra.toml may have changed since the last run: read it again.
        let config = match Config::load(config_path, &host.cwd) {
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
