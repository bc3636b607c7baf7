//! The local clock against the `Date` headers the servers answered with: signed JWTs (key
//! assertions, GitHub App tokens) are refused when the clock is a minute or more off.

use super::context::Context;
use super::finding::Finding;

const NAME: &str = "clock";
/// The largest difference accepted, in seconds.
const MAX_SKEW_SECS: i64 = 60;

/// The `clock` finding.
pub fn check(context: &Context) -> Finding {
    let now = chrono::Utc::now();
    let dates = context.dates();
    let Some((server, skew)) = dates
        .iter()
        .map(|(server, date)| (server, (*date - now).num_seconds()))
        .max_by_key(|(_, skew)| skew.abs())
    else {
        return Finding::skipped(NAME, "no server answered with a Date header to compare");
    };
    let servers = dates.len();
    if skew.abs() < MAX_SKEW_SECS {
        Finding::ok(
            NAME,
            format!(
                "within {}s of {servers} server(s)' Date headers",
                skew.abs().max(1)
            ),
        )
    } else {
        let direction = if skew > 0 { "behind" } else { "ahead of" };
        Finding::failed(
            NAME,
            format!(
                "this machine's clock is {}s {direction} {server}",
                skew.abs()
            ),
            "sync the clock (timedatectl set-ntp true, or the platform's time service): signed tokens fail otherwise",
        )
    }
}
