//! The line a plan adds under its GitHub changes: how long they take at least under GitHub's
//! secondary limits, as orchestra paces them (`[limits]`), so a large sync is not a surprise.
//!
//! Each planned `github::` change is one write request, except `github::put_secrets`, which
//! writes every secret it names; the reads around them (public keys, lists) are cheap and not
//! counted, so the figure is a lower bound. Secret deletes create no content; the other
//! GitHub writes (dispatches, token mints and revocations) are POSTs and do.

use std::time::Duration;

use crate::clients::pacing::PaceSettings;
use crate::engine::PlannedChange;

/// The primitives whose writes are Actions secrets (content, when `[limits]` says so).
const SECRET_WRITES: [&str; 3] = [
    "github::put_secret",
    "github::put_secrets",
    "github::delete_secret",
];

/// "GitHub: 500 secret writes: at least 2m under GitHub's secondary limits (…)", or `None`
/// when the plan changes nothing on GitHub.
pub fn github_estimate(changes: &[PlannedChange], settings: &PaceSettings) -> Option<String> {
    let (mut secret_writes, mut secret_puts, mut other_writes) = (0u64, 0u64, 0u64);
    for change in changes {
        let count = writes_of(change);
        if SECRET_WRITES.contains(&change.primitive.as_str()) {
            secret_writes += count;
            if change.primitive != "github::delete_secret" {
                secret_puts += count;
            }
        } else if change.primitive.starts_with("github::") {
            other_writes += count;
        }
    }
    let writes = secret_writes + other_writes;
    if writes == 0 {
        return None;
    }
    // A DELETE creates nothing; the other GitHub writes orchestra makes are POSTs.
    let content = other_writes
        + if settings.secret_writes_create_content() {
            secret_puts
        } else {
            0
        };
    let at_least = settings.shortest_time(writes, content);
    let what = match (secret_writes, other_writes) {
        (s, 0) => format!("{s} secret write{}", plural(s)),
        (0, o) => format!("{o} write{}", plural(o)),
        (s, o) => format!("{} writes ({s} of secrets)", s + o),
    };
    Some(format!(
        "GitHub: {what}: at least {} under GitHub's secondary limits \
         ({} points a minute, {} a write; {} content creations a minute, {} an hour)\n",
        spoken(at_least),
        settings.points_per_minute,
        settings.write_points,
        settings.content_per_minute,
        settings.content_per_hour,
    ))
}

/// How many write requests `change` makes: one, or one per name of a batch.
fn writes_of(change: &PlannedChange) -> u64 {
    if change.primitive != "github::put_secrets" {
        return 1;
    }
    change
        .fields
        .iter()
        .find(|(field, _)| field == "names")
        .map_or(0, |(_, names)| {
            names.split(", ").filter(|n| !n.is_empty()).count() as u64
        })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `0s` when nothing waits, otherwise humantime's `2m 50s` without the space.
fn spoken(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs()))
        .to_string()
        .replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(primitive: &str, names: Option<&str>) -> PlannedChange {
        PlannedChange {
            primitive: primitive.into(),
            scope: crate::engine::ChangeScope::World,
            target: String::new(),
            summary: String::new(),
            fields: names
                .map(|n| vec![("names".to_owned(), n.to_owned())])
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_batch_counts_each_secret_and_other_services_are_left_out() {
        let names: Vec<String> = (0..499).map(|i| format!("S_{i}")).collect();
        let changes = [
            change("github::put_secrets", Some(&names.join(", "))),
            change("github::delete_secret", None),
            change("gcp::add_secret_version", None),
        ];
        let line = github_estimate(&changes, &PaceSettings::default()).expect("a line");
        assert!(
            line.starts_with("GitHub: 500 secret writes: at least 2m under"),
            "{line}"
        );
        let content = PaceSettings {
            secret_puts_are_content: true,
            ..PaceSettings::default()
        };
        let line = github_estimate(&changes, &content).expect("a line");
        // 499 puts as content: seven windows of 80; the delete is not content.
        assert!(line.contains("at least 6m under"), "{line}");
    }

    #[test]
    fn a_plan_without_github_changes_has_no_line() {
        let changes = [change("state::set", None)];
        assert_eq!(github_estimate(&changes, &PaceSettings::default()), None);
    }
}
