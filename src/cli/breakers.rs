//! `orchestra breakers`: the circuit breakers and their state; `reset NAME` closes one.

use clap::{Args, Subcommand};

use super::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::store::format_ms;

/// Arguments of `orchestra breakers`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra breakers
  orchestra breakers --json
  orchestra breakers reset vector-search")]
pub struct BreakersArgs {
    #[command(subcommand)]
    action: Option<BreakersAction>,

    /// Print as JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum BreakersAction {
    /// Forget a breaker's failures: it is closed for the next call
    Reset {
        /// The breaker's name
        name: String,
    },
}

/// Runs `orchestra breakers`.
pub fn run(args: &BreakersArgs, host: &Host) -> Result<ExitStatus, HostError> {
    if let Some(BreakersAction::Reset { name }) = &args.action {
        if !host.store.reset_breaker(name)? {
            return Err(HostError::Usage(format!("no breaker named '{name}'")));
        }
        eprintln!("breaker '{name}' reset: closed for the next call");
        return Ok(ExitStatus::Success);
    }
    let breakers = host.store.breakers()?;
    if args.json {
        render::json(&breakers);
        return Ok(ExitStatus::Success);
    }
    if breakers.is_empty() {
        println!("no breakers yet");
        return Ok(ExitStatus::Success);
    }
    let mut out = format!(
        "{:<24}  {:<9}  {:>8}  {:<20}  {}\n",
        "NAME", "STATE", "FAILURES", "CHANGED", "LAST ERROR"
    );
    for b in &breakers {
        out.push_str(&format!(
            "{:<24}  {:<9}  {:>8}  {:<20}  {}\n",
            b.name,
            b.state.as_str(),
            format!("{}/{}", b.failures, b.threshold),
            format_ms(b.updated_at),
            b.last_error.as_deref().unwrap_or("-")
        ));
    }
    print!("{}", crate::secret::mask::mask(&out));
    Ok(ExitStatus::Success)
}
