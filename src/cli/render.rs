//! How results and errors look on the terminal: miette diagnostics, plan listings, run tables.
//! Everything passes through the redaction layer on its way out.

use std::io::IsTerminal;
use std::sync::OnceLock;

use miette::{GraphicalReportHandler, GraphicalTheme};
use serde::Serialize;

use crate::config::LogFormat;
use crate::engine::{ChangeScope, PlannedChange, ScriptDiagnostic};
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

/// How an error is written to stderr: once, in one of two forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorForm {
    /// The snippet miette draws around the failing line: for a person at a terminal.
    Snippet,
    /// `error: file:line:col: message` on one line (help on the next): for CI logs and grep.
    OneLine,
}

impl ErrorForm {
    /// The snippet on a terminal, the one line when stderr is not one or log lines are JSON.
    pub fn for_stderr(log_format: LogFormat) -> Self {
        if log_format == LogFormat::Text && std::io::stderr().is_terminal() {
            Self::Snippet
        } else {
            Self::OneLine
        }
    }
}

/// How this process writes what it shows, fixed once from the command line.
#[derive(Debug, Clone, Copy)]
struct Output {
    error_form: ErrorForm,
    verbose: bool,
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

/// Fixes, once per process, the form errors take and whether plans list run-state records
/// (`-v`); before it is called (an error while reading the configuration) errors follow stderr
/// alone.
pub fn configure(log_format: LogFormat, verbose: bool) {
    let _ = OUTPUT.set(Output {
        error_form: ErrorForm::for_stderr(log_format),
        verbose,
    });
}

fn output() -> Output {
    *OUTPUT.get_or_init(|| Output {
        error_form: ErrorForm::for_stderr(LogFormat::Text),
        verbose: false,
    })
}

fn error_form() -> ErrorForm {
    output().error_form
}

/// Writes a script diagnostic to stderr, in the process's [`ErrorForm`].
pub fn diagnostic(diagnostic: &ScriptDiagnostic) {
    eprintln!("{}", mask(&diagnostic_text(diagnostic, error_form())));
}

/// A script diagnostic as `form` writes it (unmasked: the caller masks).
pub fn diagnostic_text(diagnostic: &ScriptDiagnostic, form: ErrorForm) -> String {
    if form == ErrorForm::Snippet {
        let mut out = String::new();
        if handler().render_report(&mut out, diagnostic).is_ok() {
            return out.trim_end().to_owned();
        }
    }
    let mut out = format!("error: {}", diagnostic.one_line());
    if let Some(help) = &diagnostic.help {
        for line in help
            .lines()
            .filter(|l| !diagnostic.chain.iter().any(|c| c == l))
        {
            out.push_str("\n  help: ");
            out.push_str(line);
        }
    }
    out
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
        print!("{}", plan_listing(report, output().verbose));
    }
    if report.status != RunStatus::Succeeded {
        eprintln!(
            "run {} {} ({}); `orchestra runs show {}` has the details",
            report.run_id, report.status, report.playbook, report.run_id
        );
    }
}

/// The plan of a run: the changes out there, numbered and grouped by what they act on, each
/// with the fields it changes; orchestra's own run-state records counted in one line, or listed
/// after them when `verbose`.
pub fn plan_listing(report: &RunReport, verbose: bool) -> String {
    let (world, records): (Vec<&PlannedChange>, Vec<&PlannedChange>) = report
        .changes
        .iter()
        .partition(|c| c.scope == ChangeScope::World);
    let mut out = format!(
        "Plan for {} (run {}): {}\n",
        report.playbook,
        report.run_id,
        count(world.len(), "change", "changes")
    );
    let mut number = 0;
    for (target, changes) in grouped_by_target(&world) {
        out.push_str(&format!("  {target}\n"));
        for change in changes {
            number += 1;
            push_change(&mut out, number, change, 4);
        }
    }
    if !records.is_empty() {
        if verbose {
            out.push_str(&format!(
                "  and {}:\n",
                count(records.len(), "run-state record", "run-state records")
            ));
            for (i, change) in records.iter().enumerate() {
                push_change(&mut out, i + 1, change, 4);
            }
        } else {
            out.push_str(&format!(
                "  and {} (-v lists them)\n",
                count(records.len(), "run-state record", "run-state records")
            ));
        }
    }
    out.push_str("No changes were made (plan mode).\n");
    mask(&out).into_owned()
}

/// Changes grouped by target, the groups in the order their first change came.
fn grouped_by_target<'a>(changes: &[&'a PlannedChange]) -> Vec<(&'a str, Vec<&'a PlannedChange>)> {
    let mut groups: Vec<(&str, Vec<&PlannedChange>)> = Vec::new();
    for change in changes {
        match groups.iter_mut().find(|(t, _)| *t == change.target) {
            Some((_, members)) => members.push(change),
            None => groups.push((change.target.as_str(), vec![change])),
        }
    }
    groups
}

fn push_change(out: &mut String, number: usize, change: &PlannedChange, indent: usize) {
    let pad = " ".repeat(indent);
    out.push_str(&format!("{pad}{number}. {}\n", change.summary));
    let field_pad = " ".repeat(indent + number.to_string().len() + 2);
    for (field, value) in &change.fields {
        out.push_str(&format!("{field_pad}{field}: {value}\n"));
    }
}

/// "1 change", "4 changes".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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

/// The migration phase run `run` played a playbook of: `orchestra migrate` passes every phase
/// playbook its `migration` and `phase` as arguments, so a run carrying both belongs to one.
pub fn migration_phase(run: &RunRecord) -> Option<&str> {
    run.args.get("migration").and_then(|m| m.as_str())?;
    run.args.get("phase").and_then(|p| p.as_str())
}

/// The table `orchestra runs` prints.
pub fn runs_table(runs: &[RunRecord]) -> String {
    if runs.is_empty() {
        return "no runs yet\n".to_owned();
    }
    let mut out = format!(
        "{:>5}  {:<11}  {:<5}  {:<20}  {:>9}  {:<16}  {:<19}  {}\n",
        "ID", "STATUS", "MODE", "STARTED", "DURATION", "MACHINE", "PHASE", "PLAYBOOK"
    );
    for run in runs {
        out.push_str(&format!(
            "{:>5}  {:<11}  {:<5}  {:<20}  {:>9}  {:<16}  {:<19}  {}\n",
            run.id,
            run.status.as_str(),
            run.mode.as_str(),
            format_ms(run.started_at),
            duration_text(run),
            run.host,
            migration_phase(run).unwrap_or("-"),
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
    if let Some(phase) = migration_phase(run) {
        out.push_str(&format!("  phase:    {phase}\n"));
    }
    if let Some(error) = &run.error {
        out.push_str(&format!("  error:    {error}\n"));
    }
    out.push_str(&format!("steps ({}):\n", steps.len()));
    for step in steps {
        // A mutation's detail is its action, which names its target: each step says it once.
        let what = if step.detail.is_empty() {
            &step.target
        } else {
            &step.detail
        };
        out.push_str(&format!(
            "  {:>3}. {:<9} {:<6} {}: {what}\n",
            step.seq,
            step.status.as_str(),
            step.effect.as_str(),
            step.primitive,
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
            // A print of several lines keeps its prefix on each.
            for line in event.message.split('\n') {
                out.push_str(&format!("  [{}] {line}\n", event.level));
            }
        }
    }
    mask(&out).into_owned()
}
