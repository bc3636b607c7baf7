//! Runs every group of checks at once, each under a time-out, and keeps their order in the
//! report. A group whose checks depend on each other (a token, then the project it reaches)
//! runs them in turn; the clock check runs last, on the `Date` headers the others saw.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::context::{CHECK_TIMEOUT, Context};
use super::finding::Finding;
use super::{clock, config_checks, github, google, local, notify, schedules, tools};

type Group = Pin<Box<dyn Future<Output = Vec<Finding>> + Send>>;

/// A group of checks that reads files and SQLite: run on a blocking thread.
fn blocking(
    context: &Arc<Context>,
    name: &'static str,
    checks: fn(&Context) -> Vec<Finding>,
) -> (&'static str, Group) {
    let context = Arc::clone(context);
    let group = async move {
        tokio::task::spawn_blocking(move || checks(&context))
            .await
            .unwrap_or_else(|e| {
                vec![Finding::failed(
                    name,
                    format!("the check stopped: {e}"),
                    "report this as a bug in orchestra",
                )]
            })
    };
    (name, Box::pin(group))
}

/// Every finding, in report order.
pub async fn run_all(context: Arc<Context>) -> Vec<Finding> {
    let groups: Vec<(&'static str, Group)> = vec![
        blocking(&context, "config", config_checks::check),
        (
            "environment",
            Box::pin(std::future::ready(vec![Finding::ok(
                "environment",
                context.environment.describe(),
            )])),
        ),
        ("google", Box::pin(google::check(Arc::clone(&context)))),
        ("github", Box::pin(github::check(Arc::clone(&context)))),
        blocking(&context, "slack", notify::check),
        blocking(&context, "state db", local::check),
        blocking(&context, "schedules", schedules::check),
        blocking(&context, "firestore emulator", tools::check),
    ];
    let mut set = tokio::task::JoinSet::new();
    for (index, (name, group)) in groups.into_iter().enumerate() {
        set.spawn(async move {
            let findings = match tokio::time::timeout(CHECK_TIMEOUT * 2, group).await {
                Ok(findings) => findings,
                Err(_) => vec![Finding::failed(
                    name,
                    format!("no answer within {}s", (CHECK_TIMEOUT * 2).as_secs()),
                    "check the network and the endpoints in orchestra.toml",
                )],
            };
            (index, findings)
        });
    }
    let mut done = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(result) = joined {
            done.push(result);
        }
    }
    done.sort_by_key(|(index, _)| *index);
    let mut findings: Vec<Finding> = done.into_iter().flat_map(|(_, f)| f).collect();
    findings.push(clock::check(&context));
    findings
}
