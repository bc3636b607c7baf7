//! `orchestra report budget`: the last budget checks (`budget::status`, `usage`, `within`)
//! from the state database, newest first, each with the month it checked and the time zone
//! whose calendar that month was.

use clap::Args;

use crate::cli::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::runner::Host;
use crate::store::{BudgetCheck, format_ms};

/// Arguments of `orchestra report budget`.
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// How many checks to show
    #[arg(long, default_value_t = 20)]
    limit: u32,

    /// Print as JSON (every field, per-model figures included)
    #[arg(long)]
    json: bool,
}

fn usd(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("${v:.2}"))
}

/// What a check decided, in one word or two.
fn outcome(check: &BudgetCheck) -> String {
    match (check.level, check.within, check.estimate_usd) {
        (_, Some(within), Some(estimate)) => {
            format!(
                "{} +${estimate:.2}",
                if within { "fits" } else { "refused" }
            )
        }
        (Some(level), _, _) => level.as_str().to_owned(),
        _ => "-".to_owned(),
    }
}

/// `2026-03 America/Los_Angeles`; checks recorded before months had a zone were UTC months.
fn month(check: &BudgetCheck) -> String {
    match (&check.month, &check.month_zone) {
        (Some(month), Some(zone)) => format!("{month} {zone}"),
        _ => format!(
            "{} UTC",
            format_ms(check.period_start).get(..7).unwrap_or("-")
        ),
    }
}

fn table(checks: &[BudgetCheck]) -> String {
    let mut out = format!(
        "{:<20}  {:<6}  {:>6}  {:<14}  {:<27}  {:>10}  {:>10}  {:>10}  {:<14}  {}\n",
        "CHECKED",
        "KIND",
        "RUN",
        "PROJECT",
        "MONTH (ZONE)",
        "SPENT",
        "PROJECTED",
        "BUDGET",
        "OUTCOME",
        "TOP MODEL"
    );
    for check in checks {
        let top = check
            .per_model
            .first()
            .map_or_else(|| "-".to_owned(), |m| m.model.clone());
        let unpriced = if check.unpriced.is_empty() {
            String::new()
        } else {
            format!(" (no price: {})", check.unpriced.join(", "))
        };
        out.push_str(&format!(
            "{:<20}  {:<6}  {:>6}  {:<14}  {:<27}  {:>10}  {:>10}  {:>10}  {:<14}  {top}{unpriced}\n",
            format_ms(check.checked_at),
            check.kind.as_str(),
            check
                .run_id
                .map_or_else(|| "-".to_owned(), |r| r.to_string()),
            check.project,
            month(check),
            usd(Some(check.spent_usd)),
            usd(check.projected_usd),
            usd(check.budget_usd),
            outcome(check),
        ));
    }
    out
}

/// Runs `orchestra report budget`.
pub fn run(args: &BudgetArgs, host: &Host) -> Result<ExitStatus, HostError> {
    let checks = host.store.budget_checks(args.limit)?;
    if args.json {
        render::json(&checks);
    } else if checks.is_empty() {
        println!("no budget checks yet: `orchestra play vertex_budget` makes one");
    } else {
        print!("{}", crate::secret::mask::mask(&table(&checks)));
    }
    Ok(ExitStatus::Success)
}
