//! What a migration looks like on paper: the phase table `status` prints, and the report
//! (`migrate report`) in Markdown or JSON — phases, a timeline, metrics against their targets,
//! failures with `file:line` and message, skipped phases with reasons, and next steps.
//!
//! Reads the store, writes nothing there; a report file is written atomically.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::store::{PhaseView, latest_metrics, phase_views};
use super::{Migration, PhaseStatus};
use crate::store::{RunId, Store, StoreError, format_ms};

/// The version of the JSON report's shape; bumped when a field changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;

/// One entry of the timeline: a phase run, in the order they started.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// When it started, ms since the epoch.
    pub started_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// The phase.
    pub phase: String,
    /// `execute`, `verify` or `skip`.
    pub kind: String,
    /// How it ended (`running` while it works).
    pub status: String,
    /// Its orchestra run.
    pub run_id: Option<RunId>,
}

/// A metric with the target migration.toml sets for it.
#[derive(Debug, Clone, Serialize)]
pub struct MetricLine {
    /// The phase that recorded it (`None`: migration-wide).
    pub phase: Option<String>,
    /// Its name.
    pub name: String,
    /// Its latest value (`None`: expected, never recorded).
    pub value: Option<f64>,
    /// The target, in words, if one is set.
    pub target: Option<String>,
    /// Whether the latest value meets the target.
    pub met: Option<bool>,
}

/// A failed phase and where it failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// The phase.
    pub phase: String,
    /// `file:line:col` of the error, when it came from a playbook.
    pub at: Option<String>,
    /// The message (or the drift found).
    pub message: String,
}

/// A phase set aside, with why.
#[derive(Debug, Clone, Serialize)]
pub struct SetAside {
    /// The phase.
    pub phase: String,
    /// Why.
    pub reason: String,
}

/// Everything a report says.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The migration's name.
    pub migration: String,
    /// Its project.
    pub project: String,
    /// When the report was made, ms since the epoch.
    pub generated_at: i64,
    /// Every phase with its state.
    pub phases: Vec<PhaseView>,
    /// Every phase run, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Every metric recorded or expected.
    pub metrics: Vec<MetricLine>,
    /// Failed and interrupted phases.
    pub failures: Vec<Failure>,
    /// Skipped phases.
    pub skipped: Vec<SetAside>,
    /// Phases orchestra cannot check.
    pub unknown: Vec<SetAside>,
    /// What to do next.
    pub next_steps: Vec<String>,
}

/// Builds the report of `migration` from the store.
pub fn build(store: &Store, migration: &Migration, now_ms: i64) -> Result<Report, StoreError> {
    let phases = phase_views(store, migration)?;
    let timeline = store
        .phase_runs(&migration.name)?
        .into_iter()
        .map(|r| TimelineEntry {
            started_at: r.started_at,
            finished_at: r.finished_at,
            phase: r.phase,
            kind: r.kind.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            run_id: r.run_id,
        })
        .collect();
    let recorded = latest_metrics(&store.migration_metrics(&migration.name)?);
    let mut metrics = Vec::new();
    for (phase, values) in &recorded {
        for (name, value) in values {
            let target = migration
                .targets()
                .find(|(p, t)| &t.name == name && phase.as_deref().is_none_or(|ph| ph == p.name))
                .map(|(_, t)| t);
            metrics.push(MetricLine {
                phase: phase.clone(),
                name: name.clone(),
                value: Some(*value),
                target: target.map(|t| t.describe()),
                met: target.map(|t| t.is_met_by(*value)),
            });
        }
    }
    for (phase, target) in migration.targets() {
        let seen = recorded
            .get(&Some(phase.name.clone()))
            .is_some_and(|v| v.contains_key(&target.name));
        if !seen {
            metrics.push(MetricLine {
                phase: Some(phase.name.clone()),
                name: target.name.clone(),
                value: None,
                target: Some(target.describe()),
                met: Some(false),
            });
        }
    }
    let failures = phases
        .iter()
        .filter(|p| matches!(p.status, PhaseStatus::Failed | PhaseStatus::Interrupted))
        .map(|p| Failure {
            phase: p.name.clone(),
            at: p.error_at.clone(),
            message: match (&p.reason, &p.error) {
                (Some(reason), _) => reason.clone(),
                (None, Some(error)) => error.clone(),
                (None, None) if p.status == PhaseStatus::Interrupted => {
                    "interrupted before it finished".to_owned()
                }
                (None, None) => "failed".to_owned(),
            },
        })
        .collect();
    let set_aside = |status| {
        phases
            .iter()
            .filter(|p| p.status == status)
            .map(|p| SetAside {
                phase: p.name.clone(),
                reason: p.reason.clone().unwrap_or_default(),
            })
            .collect::<Vec<_>>()
    };
    let skipped = set_aside(PhaseStatus::Skipped);
    let unknown = set_aside(PhaseStatus::Unknown);
    let next_steps = next_steps(&phases);
    Ok(Report {
        format_version: FORMAT_VERSION,
        migration: migration.name.clone(),
        project: migration.project.clone(),
        generated_at: now_ms,
        phases,
        timeline,
        metrics,
        failures,
        skipped,
        unknown,
        next_steps,
    })
}

fn next_steps(phases: &[PhaseView]) -> Vec<String> {
    let mut steps = Vec::new();
    if let Some(running) = phases.iter().find(|p| p.status == PhaseStatus::InProgress) {
        steps.push(format!(
            "{} is running: follow it with `orchestra migrate monitor`",
            running.name
        ));
    }
    if let Some(stuck) = phases
        .iter()
        .find(|p| matches!(p.status, PhaseStatus::Failed | PhaseStatus::Interrupted))
    {
        steps.push(format!(
            "fix {} (see Failures), then run `orchestra migrate execute`: it starts again from {}",
            stuck.name, stuck.name
        ));
    } else if phases.iter().any(|p| p.status == PhaseStatus::NotStarted) {
        steps.push("run `orchestra migrate execute` to run the phases not started".to_owned());
    }
    for unknown in phases.iter().filter(|p| p.status == PhaseStatus::Unknown) {
        steps.push(format!(
            "check {} by hand ({}), or set it aside with `orchestra migrate skip {} --why \"...\"`",
            unknown.name,
            unknown
                .reason
                .as_deref()
                .unwrap_or("orchestra cannot check it"),
            unknown.name
        ));
    }
    if phases.iter().all(|p| p.status.lets_dependents_run()) {
        steps.push(
            "run `orchestra migrate verify` regularly: it exits 2 and lists any drift".to_owned(),
        );
    }
    steps
}

/// A duration for people: `850 ms`, `12.3 s`, `4 min 05 s`.
pub fn duration_text(ms: i64) -> String {
    match ms {
        ..1_000 => format!("{} ms", ms.max(0)),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// A metric value for people: integers without decimals, others with up to two.
pub fn value_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
    }
}

fn metrics_text(metrics: &BTreeMap<String, f64>) -> String {
    metrics
        .iter()
        .map(|(name, value)| format!("{name}={}", value_text(*value)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The cells both phase tables (`migrate status`, the report's) begin with: phase, status,
/// started, and how long it took (or has taken, at `now_ms`); `-` where there is none.
fn phase_cells(phase: &PhaseView, now_ms: i64) -> [String; 4] {
    [
        phase.name.clone(),
        phase.status.to_string(),
        phase
            .started_at
            .map(format_ms)
            .unwrap_or_else(|| "-".into()),
        phase
            .took_ms(now_ms)
            .map(duration_text)
            .unwrap_or_else(|| "-".into()),
    ]
}

/// The phase table of `migrate status`: phase, status, started, took, metrics.
pub fn status_table(phases: &[PhaseView], now_ms: i64) -> String {
    let rows: Vec<[String; 5]> = phases
        .iter()
        .map(|p| {
            let [name, status, started, took] = phase_cells(p, now_ms);
            [name, status, started, took, metrics_text(&p.metrics)]
        })
        .collect();
    let header = ["PHASE", "STATUS", "STARTED", "TOOK", "METRICS"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The report in Markdown.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Migration report: {} (project {})\n\nGenerated {}.\n",
        report.migration,
        report.project,
        format_ms(report.generated_at)
    );
    let count = |status| report.phases.iter().filter(|p| p.status == status).count();
    let _ = writeln!(
        out,
        "{} of {} phases completed, {} unknown, {} skipped, {} failed or interrupted.\n",
        count(PhaseStatus::Completed),
        report.phases.len(),
        count(PhaseStatus::Unknown),
        count(PhaseStatus::Skipped),
        count(PhaseStatus::Failed) + count(PhaseStatus::Interrupted),
    );
    out.push_str("## Phases\n\n| Phase | Status | Started | Took | Runs | Metrics |\n|---|---|---|---|---|---|\n");
    for p in &report.phases {
        let [name, status, started, took] = phase_cells(p, report.generated_at);
        let _ = writeln!(
            out,
            "| {name} | {status} | {started} | {took} | {} | {} |",
            p.attempts,
            cell(&metrics_text(&p.metrics)),
        );
    }
    out.push_str("\n## Timeline\n\n");
    if report.timeline.is_empty() {
        out.push_str("Nothing has run yet.\n");
    }
    for entry in &report.timeline {
        let took = entry
            .finished_at
            .map(|end| format!(" in {}", duration_text(end - entry.started_at)))
            .unwrap_or_default();
        let run = entry
            .run_id
            .map(|r| format!(" (run {r})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- {} {} {}: {}{took}{run}",
            format_ms(entry.started_at),
            entry.phase,
            entry.kind,
            entry.status
        );
    }
    out.push_str("\n## Metrics\n\n");
    if report.metrics.is_empty() {
        out.push_str("No metric recorded.\n");
    } else {
        out.push_str("| Metric | Phase | Value | Target | Met |\n|---|---|---|---|---|\n");
        for m in &report.metrics {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                m.name,
                m.phase.as_deref().unwrap_or("(migration)"),
                m.value
                    .map(value_text)
                    .unwrap_or_else(|| "never recorded".into()),
                m.target.as_deref().unwrap_or("-"),
                match m.met {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "-",
                }
            );
        }
    }
    section(
        &mut out,
        "Failures",
        report.failures.iter().map(|f| match &f.at {
            Some(at) => format!("**{}** at `{at}`: {}", f.phase, f.message),
            None => format!("**{}**: {}", f.phase, f.message),
        }),
    );
    section(
        &mut out,
        "Skipped",
        report
            .skipped
            .iter()
            .map(|s| format!("**{}**: {}", s.phase, s.reason)),
    );
    section(
        &mut out,
        "Unknown",
        report
            .unknown
            .iter()
            .map(|s| format!("**{}**: {}", s.phase, s.reason)),
    );
    section(&mut out, "Next steps", report.next_steps.iter().cloned());
    out
}

fn section(out: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let _ = write!(out, "\n## {title}\n\n");
    let mut any = false;
    for item in items {
        any = true;
        let _ = writeln!(out, "- {item}");
    }
    if !any {
        out.push_str("None.\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration_text(850), "850 ms");
        assert_eq!(duration_text(12_340), "12.3 s");
        assert_eq!(duration_text(245_000), "4 min 05 s");
        assert_eq!(value_text(3.0), "3");
        assert_eq!(value_text(12.345), "12.35");
    }
}
