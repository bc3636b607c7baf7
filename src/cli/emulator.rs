//! `orchestra emulator`: the local GitHub, Secret Manager, IAM and Slack stand-in, in the
//! foreground until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use clap::Args;
use orchestra_emulator::{EmulatorConfig, FaultRule, LimitSettings};

use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;

/// Arguments of `orchestra emulator`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra emulator --port 8900 --state .orchestra/emulator.json
  orchestra emulator --fault '{\"path\":\"/v1/**\",\"kind\":\"status\",\"status\":503,\"count\":2}'
  orchestra emulator --time-scale 60     # GitHub's secondary limits with a one-second minute
  orchestra emulator --limits off        # answer as fast as it can, as before

Fault kinds: status (with status, retry_after, message), latency (ms), drop. Limit a fault with
count (next N matching requests) or fraction (0..1). Faults can also be added while it runs:
POST /_emulator/faults with the same JSON; DELETE /_emulator/faults clears them.

GitHub's secondary limits are enforced per credential: 100 requests in flight, 900 points a
minute per endpoint (GET 1, POST/PATCH/PUT/DELETE 5), 80 content-creating requests a minute and
500 an hour. GET /_emulator/limits shows them and the refusals given. Point orchestra at an
emulator with --time-scale N by setting [limits].time_scale = N, so it paces on the same clock.")]
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

    /// Enforce GitHub's secondary rate limits: on or off
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = parse_enabled)]
    limits: bool,

    /// Make the limits' minute N times shorter (1 is real time), so a rehearsal of a long
    /// paced run takes seconds
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_scale)]
    time_scale: f64,

    /// Count Actions-secret and variable PUTs against the content-creation limit (80 a
    /// minute, 500 an hour); GitHub does not document whether they count
    #[arg(long)]
    secret_puts_are_content: bool,

    /// Refuse requests over Secret Manager's soft limits (2 version adds or updates a second
    /// per secret, 1 state change a second per version) instead of only counting them
    #[arg(long)]
    enforce_google_soft_limits: bool,
}

fn parse_enabled(text: &str) -> Result<bool, String> {
    LimitSettings::default()
        .with_enabled(text)
        .map(|s| s.enabled)
}

fn parse_scale(text: &str) -> Result<f64, String> {
    LimitSettings::default()
        .with_time_scale(text)
        .map(|s| s.time_scale)
}

/// Runs `orchestra emulator` until the cancel flag is set.
pub fn run(args: &EmulatorArgs, host: &Host) -> Result<ExitStatus, HostError> {
    let mut config = EmulatorConfig {
        state_file: args.state.as_ref().map(|p| host.cwd.join(p)),
        seed: args.seed.as_ref().map(|p| host.cwd.join(p)),
        faults: args.faults.clone(),
        limits: LimitSettings {
            enabled: args.limits,
            time_scale: args.time_scale,
            secret_puts_are_content: args.secret_puts_are_content,
            google_soft_limits_enforced: args.enforce_google_soft_limits,
            ..LimitSettings::default()
        },
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
