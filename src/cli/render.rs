//! How results and errors look on the terminal: miette diagnostics, plan listings, run tables.
//! Everything passes through the redaction layer on its way out.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};
use serde::Serialize;

use crate::engine::ScriptDiagnostic;
use crate::error::HostError;
use crate::runner::RunReport;
use crate::secret::mask::mask;
use crate::store::{EventRecord, RunMode, RunRecord, RunStatus, StepRecord, format_ms};

fn handler() -> GraphicalReportHandler {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme).with_width(100)
}

/// Writes a script diagnostic to stderr: `error: file:line:col: message`, then the snippet.
pub fn diagnostic(diagnostic: &ScriptDiagnostic) {
    let mut out = String::new();
    if handler().render_report(&mut out, diagnostic).is_err() {
        out = diagnostic.one_line();
    }
    eprintln!("error: {}", mask(&diagnostic.one_line()));
    eprintln!("{}", mask(&out));
}

/// Writes a command's error to stderr.
pub fn host_error(err: &HostError) {
    match err {
        HostError::Compile { diagnostics, .. } => {
            for d in diagnostics {
                diagnostic(d);
            }
            eprintln!("error: {}", mask(&err.to_string()));
        }
        other => {
            eprintln!("error: {}", mask(&other.to_string()));
            if let Some(help) = other.help() {
                eprintln!("  help: {}", mask(&help));
            }
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{}", mask(&text)),
        Err(err) => eprintln!("error: cannot write JSON: {err}"),
    }
}

/// Shows how a run ended: the plan (in plan mode), the error (if any), as text or JSON.
pub fn run_report(report: &RunReport, as_json: bool) {
    if as_json {
        json(report);
        return;
    }
    if let Some(error) = &report.error {
        diagnostic(error);
    }
    if report.mode == RunMode::Plan {
        print!("{}", plan_listing(report));
    }
    if report.status != RunStatus::Succeeded {
        eprintln!(
            "run {} {} ({}); `orchestra runs show {}` has the details",
            report.run_id, report.status, report.playbook, report.run_id
        );
    }
}

/// The numbered list of changes a plan run would make.
pub fn plan_listing(report: &RunReport) -> String {
    let mut out = format!(
        "Plan for {} (run {}): {} change(s)\n",
        report.playbook,
        report.run_id,
        report.changes.len()
    );
    for (i, change) in report.changes.iter().enumerate() {
        out.push_str(&format!("  {}. {}\n", i + 1, change.summary));
        for (field, value) in &change.fields {
            out.push_str(&format!("       {field}: {value}\n"));
        }
    }
    out.push_str("No changes were made (plan mode).\n");
    mask(&out).into_owned()
}

fn duration_text(run: &RunRecord) -> String {
    match run.finished_at {
        Some(end) => {
            let ms = u64::try_from(end - run.started_at).unwrap_or(0);
            humantime::format_duration(std::time::Duration::from_millis(ms)).to_string()
        }
        None => "-".to_owned(),
    }
}

/// The table `orchestra runs` prints.
pub fn runs_table(runs: &[RunRecord]) -> String {
    if runs.is_empty() {
        return "no runs yet\n".to_owned();
    }
    let mut out = format!(
        "{:>5}  {:<11}  {:<5}  {:<20}  {:>9}  {:<16}  {}\n",
        "ID", "STATUS", "MODE", "STARTED", "DURATION", "MACHINE", "PLAYBOOK"
    );
    for run in runs {
        out.push_str(&format!(
            "{:>5}  {:<11}  {:<5}  {:<20}  {:>9}  {:<16}  {}\n",
            run.id,
            run.status.as_str(),
            run.mode.as_str(),
            format_ms(run.started_at),
            duration_text(run),
            run.host,
            run.playbook
        ));
    }
    mask(&out).into_owned()
}

/// The page `orchestra runs show` prints.
pub fn run_detail(run: &RunRecord, steps: &[StepRecord], events: &[EventRecord]) -> String {
    let mut out = format!(
        "run {}: {} ({})\n  status:   {}\n  started:  {}\n  duration: {}\n  process:  pid {} on {}\n  args:     {}\n",
        run.id,
        run.playbook,
        run.mode,
        run.status,
        format_ms(run.started_at),
        duration_text(run),
        run.pid,
        run.host,
        run.args
    );
    if let Some(error) = &run.error {
        out.push_str(&format!("  error:    {error}\n"));
    }
    out.push_str(&format!("steps ({}):\n", steps.len()));
    for step in steps {
        out.push_str(&format!(
            "  {:>3}. {:<9} {:<6} {} {}{}\n",
            step.seq,
            step.status.as_str(),
            step.effect.as_str(),
            step.primitive,
            step.target,
            if step.detail.is_empty() {
                String::new()
            } else {
                format!(" — {}", step.detail)
            }
        ));
    }
    let unfinished: Vec<String> = steps
        .iter()
        .filter(|s| s.status == crate::store::StepStatus::Started)
        .map(|s| format!("step {} ({} {})", s.seq, s.primitive, s.target))
        .collect();
    if !unfinished.is_empty() {
        out.push_str(&format!(
            "left undecided (started, outcome unknown): {}\n",
            unfinished.join(", ")
        ));
    }
    if !events.is_empty() {
        out.push_str(&format!("output ({} lines):\n", events.len()));
        for event in events {
            out.push_str(&format!("  [{}] {}\n", event.level, event.message));
        }
    }
    mask(&out).into_owned()
}
