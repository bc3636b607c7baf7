//! The GitHub Actions workflow `orchestra export-workflow --schedule PLAYBOOK --every D`
//! prints: a cron trigger, Workload Identity authentication, orchestra installed, and the run
//! state forced to the shared Firestore backend. Knows nothing of the store.

use crate::schedule::Interval;

const TEMPLATE: &str = include_str!("schedule_workflow.yml");

/// GitHub runs scheduled workflows at most every five minutes.
const SHORTEST_MINUTES: u64 = 5;

/// The workflow that plays `playbook` every `every`.
pub fn scheduled_workflow(playbook: &str, every: Interval) -> Result<String, String> {
    let valid = !playbook.is_empty()
        && !playbook.starts_with(['-', '/', '.'])
        && !playbook.contains("..")
        && playbook
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'));
    if !valid {
        return Err(format!(
            "--schedule: expected a playbook name or a relative path of letters, digits, '_', '-', '.' and '/', found '{playbook}'"
        ));
    }
    if every.duration().as_secs() < SHORTEST_MINUTES * 60 {
        return Err(format!(
            "--every: GitHub runs a scheduled workflow at most every {SHORTEST_MINUTES} minutes, found {every}"
        ));
    }
    let cron = every
        .cron_expression()
        .map_err(|e| format!("--every: {e}"))?;
    let name = playbook
        .rsplit('/')
        .next()
        .unwrap_or(playbook)
        .trim_end_matches(".rhai")
        .replace('.', "-");
    Ok(TEMPLATE
        .replace("@NAME@", &name)
        .replace("@PLAYBOOK@", playbook)
        .replace("@EVERY@", &every.to_string())
        .replace("@CRON@", &cron))
}
