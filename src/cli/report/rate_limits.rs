//! `orchestra report rate-limits`: the last rate-limit checks, one line per window.

use clap::Args;

use crate::cli::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::store::{RateLimitCheck, format_ms};

/// The resources always shown; others only once something used them.
const MAIN_RESOURCES: [&str; 3] = ["core", "search", "graphql"];

/// Arguments of `orchestra report rate-limits`.
#[derive(Debug, Args)]
pub struct RateLimitsArgs {
    /// How many of the newest checks to show
    #[arg(long, default_value_t = 3)]
    checks: usize,

    /// Only this credential
    #[arg(long)]
    credential: Option<String>,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Prints the table (or JSON) of the newest checks.
pub fn run(args: &RateLimitsArgs, host: &Host) -> Result<ExitStatus, HostError> {
    let rows: Vec<RateLimitCheck> = host
        .store
        .recent_rate_limits(args.checks)?
        .into_iter()
        .filter(|c| {
            args.credential
                .as_ref()
                .is_none_or(|name| *name == c.credential)
        })
        .collect();
    if args.json {
        render::json(&rows);
        return Ok(ExitStatus::Success);
    }
    let shown: Vec<&RateLimitCheck> = rows
        .iter()
        .filter(|c| MAIN_RESOURCES.contains(&c.resource.as_str()) || c.used > 0)
        .collect();
    if shown.is_empty() {
        println!("no rate-limit checks yet: run `orchestra play monitor_rate_limits`");
        return Ok(ExitStatus::Success);
    }
    let mut out = format!(
        "{:<20}  {:<16}  {:<10}  {:>13}  {:>6}  {:<20}  {:>8}  {}\n",
        "CHECKED", "CREDENTIAL", "RESOURCE", "LEFT/LIMIT", "LEFT%", "RESETS", "BURN/H", "RUNS OUT"
    );
    for c in shown {
        let percent = if c.limit > 0 {
            c.remaining as f64 * 100.0 / c.limit as f64
        } else {
            0.0
        };
        out.push_str(&format!(
            "{:<20}  {:<16}  {:<10}  {:>13}  {:>5.1}%  {:<20}  {:>8}  {}\n",
            format_ms(c.checked_at),
            c.credential,
            c.resource,
            format!("{}/{}", c.remaining, c.limit),
            percent,
            format_ms(c.reset_at * 1000),
            c.burn_per_hour
                .map_or_else(|| "-".to_owned(), |b| format!("{b:.0}")),
            c.exhausts_at
                .map_or_else(|| "-".to_owned(), |at| format_ms(at * 1000)),
        ));
    }
    print!("{out}");
    Ok(ExitStatus::Success)
}
