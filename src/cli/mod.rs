//! The command line: global options, one file per command, and the edge where errors are
//! rendered and mapped to exit codes.

mod breakers;
mod check;
mod completions;
mod daemon;
mod doc;
mod doctor;
mod emulated;
mod emulator;
mod env;
mod export_workflow;
mod init;
mod man;
mod memory;
mod migrate;
mod plan_estimate;
mod play;
mod render;
mod report;
mod resume;
mod runs;
mod scan;
mod schedule;
mod schedule_workflow;
mod state;
mod state_migrate;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};

use crate::config::{Config, LogFormat};
use crate::error::HostError;
use crate::exit::{EXIT_CODES_HELP, ExitStatus};
use crate::logging::{self, Verbosity};
use crate::runner::Host;

/// Runs ops procedures written as sandboxed Rhai playbooks.
#[derive(Debug, Parser)]
#[command(name = "orchestra", version = env!("ORCHESTRA_VERSION"), about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Configuration file [default: orchestra.toml, if present]
    #[arg(long, global = true, env = "ORCHESTRA_CONFIG")]
    config: Option<PathBuf>,

    /// SQLite run-state file [default: [paths].state_db, .orchestra/state.db]
    #[arg(long, global = true, env = "ORCHESTRA_STATE_DB")]
    state_db: Option<PathBuf>,

    /// More log output (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Log line format [default: [log].format, text]
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,

    /// Also write log lines to this file [default: [log].file]
    #[arg(long, global = true)]
    log_file: Option<PathBuf>,

    /// Lay [profiles.NAME] over the config [default: the detected environment's, if any]
    #[arg(long, global = true, env = "ORCHESTRA_PROFILE")]
    profile: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a playbook
    Play(play::PlayArgs),
    /// Compile playbooks and report every error, without running them
    Check(check::CheckArgs),
    /// List recent runs, or show one
    Runs(runs::RunsArgs),
    /// Where run state lives and who holds its locks (`state status`)
    State(state::StateArgs),
    /// Run a failed or interrupted run's playbook again with the same arguments
    Resume(resume::ResumeArgs),
    /// List the primitives playbooks can call, with signatures and docs
    Doc(doc::DocArgs),
    /// Show the circuit breakers, or reset one
    Breakers(breakers::BreakersArgs),
    /// Install, list or remove playbook runs in the user's crontab
    Schedule(schedule::ScheduleArgs),
    /// Run the schedules in orchestra.toml in one long-lived process
    Daemon(daemon::DaemonArgs),
    /// Compact tables of what the watching playbooks last measured
    Report(report::ReportArgs),
    /// Run the local GitHub, Secret Manager, IAM, Monitoring and Slack stand-in
    Emulator(emulator::EmulatorArgs),
    /// Find credentials in the working tree, the index or git history
    Scan(scan::ScanArgs),
    /// Read and write memory entries; the backend's health, outbox and cache
    Memory(memory::MemoryArgs),
    /// A phased migration (migration.toml): init, status, execute, verify, skip, report, monitor
    Migrate(migrate::MigrateArgs),
    /// Where orchestra runs, why it thinks so, the profile in use and its endpoints
    Env(env::EnvArgs),
    /// Print the GitHub Actions workflow that github-to-gcp secret syncs dispatch
    ExportWorkflow(export_workflow::ExportWorkflowArgs),
    /// Check what works and what is missing (config, credentials, permissions, state), with fixes
    Doctor(doctor::DoctorArgs),
    /// Write a commented orchestra.toml for the repository in the working directory
    Init(init::InitArgs),
    /// Print shell completions (bash, zsh, fish, powershell)
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff)
    Man(man::ManArgs),
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main_entry() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    let detailed = matches!(&cli.command, Command::Migrate(args) if args.is_verify());
    let status = match run(cli) {
        Ok(status) => status,
        Err(err) if detailed => {
            render::host_error(&err);
            ExitStatus::Error
        }
        Err(err) => {
            render::host_error(&err);
            err.exit_status()
        }
    };
    ExitCode::from(status.code())
}

fn run(cli: Cli) -> Result<ExitStatus, HostError> {
    let cwd = std::env::current_dir().map_err(|e| HostError::Io(e.to_string()))?;
    // These need no configuration, or (doctor) report a broken one instead of failing on it.
    match &cli.command {
        Command::Completions(args) => return Ok(completions::run(args)),
        Command::Man(args) => return man::run(args),
        Command::Init(args) => return init::run(args, &cwd),
        Command::Doctor(args) => {
            return doctor::run(
                args,
                &doctor::Global {
                    config: cli.config.clone(),
                    state_db: cli.state_db.clone(),
                    cwd,
                },
            );
        }
        _ => {}
    }
    let mut config =
        Config::load_with_profile(cli.config.as_deref(), &cwd, cli.profile.as_deref())?;
    if let Some(state_db) = &cli.state_db {
        config.paths.state_db = cwd.join(state_db);
    }
    let log_file = cli
        .log_file
        .clone()
        .map(|f| cwd.join(f))
        .or_else(|| config.log.file.as_ref().map(|f| config.resolve(f)));
    let log_format = cli.log_format.unwrap_or(config.log.format);
    render::configure(log_format, cli.verbose > 0);
    logging::init(
        Verbosity {
            verbose: cli.verbose,
            quiet: cli.quiet,
        },
        log_format,
        log_file.as_deref(),
    )
    .map_err(HostError::Io)?;
    crate::progress::configure(crate::progress::mode_for(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        log_format == LogFormat::Json,
        cli.quiet,
    ));

    if let Command::Doc(args) = &cli.command {
        return doc::run(args, Arc::new(config));
    }
    if let Command::Env(args) = &cli.command {
        return env::run(args, &config);
    }
    if let Command::ExportWorkflow(args) = &cli.command {
        return export_workflow::run(args);
    }
    if let Command::Check(args) = &cli.command {
        return check::run(args, Arc::new(config), &cwd);
    }
    if let Command::Scan(args) = &cli.command {
        return scan::run(args, &config, &cwd);
    }
    if let Command::Schedule(args) = &cli.command {
        return schedule::run(args, Arc::new(config), &cwd);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| HostError::Io(format!("cannot start the async runtime: {e}")))?;
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    // The daemon lets a run in progress finish on the first signal; everything else stops
    // the run at its next step.
    let stages = if matches!(cli.command, Command::Daemon(_)) {
        vec![Arc::clone(&stop), Arc::clone(&cancel)]
    } else {
        vec![Arc::clone(&cancel)]
    };
    install_signal_handlers(&runtime, stages);
    let services = Arc::new(crate::services::Services::new(
        crate::services::Endpoints::Configured,
    ));
    // Google's credentials start their refresh task on the runtime they are built in.
    let store = {
        let _inside = runtime.enter();
        crate::runner::open_store(&config, &services)?
    };
    let host = Host {
        config: Arc::new(config),
        store,
        runtime: runtime.handle().clone(),
        cancel,
        cwd,
        services,
    };
    let status = match &cli.command {
        Command::Play(args) => play::run(
            args,
            &host,
            &play::ConfigSource {
                file: cli.config.as_deref(),
                profile: cli.profile.as_deref(),
            },
        ),
        Command::Runs(args) => runs::run(args, &host),
        Command::State(args) => state::run(args, &host),
        Command::Resume(args) => resume::run(args, &host),
        Command::Breakers(args) => breakers::run(args, &host),
        Command::Daemon(args) => daemon::run(args, &host, &stop),
        Command::Report(args) => report::run(args, &host),
        Command::Emulator(args) => emulator::run(args, &host),
        Command::Memory(args) => memory::run(args, &host),
        Command::Migrate(args) => migrate::run(args, &host),
        Command::Doc(_)
        | Command::Check(_)
        | Command::Schedule(_)
        | Command::Scan(_)
        | Command::ExportWorkflow(_)
        | Command::Env(_)
        | Command::Doctor(_)
        | Command::Init(_)
        | Command::Completions(_)
        | Command::Man(_) => {
            unreachable!("handled above")
        }
    };
    runtime.shutdown_background();
    status
}

/// A panic message may quote script data: it goes through the redaction layer like all output.
/// The exit status of a process that wrote to a closed pipe and took the default `SIGPIPE`
/// action (128 + 13), which is what `orchestra runs | head -1` should end with.
const CLOSED_STDOUT_STATUS: i32 = 141;

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        // Rust ignores SIGPIPE so that a closed socket is an error, not a death; `println!`
        // then panics when the reader of stdout has gone (`| head`). End the way a Unix tool
        // does, quietly: the run state is journaled and survives an exit at any point, like a kill.
        if is_closed_stdout(&message) {
            std::process::exit(CLOSED_STDOUT_STATUS);
        }
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "internal error{place}: {}",
            crate::secret::mask::mask(&message)
        );
    }));
}

/// Whether a panic is `print!`'s on a stdout whose reader has closed the pipe.
fn is_closed_stdout(panic_message: &str) -> bool {
    panic_message.starts_with("failed printing to stdout")
        && panic_message.to_ascii_lowercase().contains("broken pipe")
}

/// Each Ctrl-C or SIGTERM sets the next flag in `stages` (the cancel flag stops the script at
/// its next operation, records the run as interrupted and releases its lock); one more signal
/// after the last stage exits at once.
fn install_signal_handlers(runtime: &tokio::runtime::Runtime, stages: Vec<Arc<AtomicBool>>) {
    runtime.spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let got_signal = async {
                match term.as_mut() {
                    Some(term) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        }
                    }
                    None => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            };
            #[cfg(not(unix))]
            let got_signal = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            got_signal.await;
            match stages.iter().find(|flag| !flag.load(Ordering::SeqCst)) {
                Some(flag) => {
                    flag.store(true, Ordering::SeqCst);
                    eprintln!("stopping (send the signal again to stop harder)");
                }
                None => std::process::exit(i32::from(ExitStatus::Interrupted.code())),
            }
        }
    });
}
