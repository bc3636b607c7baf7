//! `orchestra emulator`: the local GitHub, Secret Manager, IAM and Slack stand-in, in the
//! foreground until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use clap::Args;
use orchestra_emulator::{EmulatorConfig, FaultRule};

use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;

/// Arguments of `orchestra emulator`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra emulator --port 8900 --state .orchestra/emulator.json
  orchestra emulator --fault '{\"path\":\"/v1/**\",\"kind\":\"status\",\"status\":503,\"count\":2}'

Fault kinds: status (with status, retry_after, message), latency (ms), drop. Limit a fault with
count (next N matching requests) or fraction (0..1). Faults can also be added while it runs:
POST /_emulator/faults with the same JSON; DELETE /_emulator/faults clears them.")]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 8900)]
    port: u16,

    /// Save state here after every change and reload it at start, so a rehearsal survives a
    /// restart
    #[arg(long)]
    state: Option<PathBuf>,

    /// Fixtures: a state file to start from [default: the built-in demo]
    #[arg(long)]
    seed: Option<PathBuf>,

    /// A fault rule as JSON (repeatable)
    #[arg(long = "fault", value_name = "JSON", value_parser = FaultRule::parse)]
    faults: Vec<FaultRule>,
}

/// Runs `orchestra emulator` until the cancel flag is set.
pub fn run(args: &EmulatorArgs, host: &Host) -> Result<ExitStatus, HostError> {
    let mut config = EmulatorConfig {
        state_file: args.state.as_ref().map(|p| host.cwd.join(p)),
        seed: args.seed.as_ref().map(|p| host.cwd.join(p)),
        faults: args.faults.clone(),
        ..EmulatorConfig::default()
    };
    config.bind.set_port(args.port);
    let emulator = host
        .runtime
        .block_on(orchestra_emulator::start(config))
        .map_err(|e| HostError::Io(e.to_string()))?;
    println!("{}", emulator.settings_text());
    while !host.cancel.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    host.runtime.block_on(emulator.shutdown());
    eprintln!("emulator stopped");
    Ok(ExitStatus::Success)
}
