//! One check's outcome and how the outcomes are shown: a line each on a terminal, or JSON.

use serde::Serialize;

use crate::config::environment::Environment;
use crate::secret::mask::mask;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It works.
    Ok,
    /// It is broken; the finding says how to fix it.
    Failed,
    /// This setup does not need it.
    Skipped,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Self::Ok => "✓",
            Self::Failed => "✗",
            Self::Skipped => "–",
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The check's name, e.g. `github credential`.
    pub check: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was seen, in words (never a credential).
    pub detail: String,
    /// One line saying how to fix it (failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    /// A check that works.
    pub fn ok(check: &'static str, detail: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    /// A check that is broken, with its fix.
    pub fn failed(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Failed,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A check this setup does not need.
    pub fn skipped(check: &'static str, detail: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Skipped,
            detail: detail.into(),
            fix: None,
        }
    }
}

/// The findings as lines: `✓ check  detail`, with `fix:` under each failure, then a count.
pub fn print_text(findings: &[Finding]) {
    let width = findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
    let mut out = String::new();
    for finding in findings {
        out.push_str(&format!(
            "{} {:width$}  {}\n",
            finding.status.mark(),
            finding.check,
            finding.detail
        ));
        if let Some(fix) = &finding.fix {
            out.push_str(&format!("  {:width$}  fix: {fix}\n", ""));
        }
    }
    let failed = findings
        .iter()
        .filter(|f| f.status == Status::Failed)
        .count();
    out.push_str(&if failed == 0 {
        format!("{} checks, nothing broken\n", findings.len())
    } else {
        format!("{} checks, {failed} broken\n", findings.len())
    });
    print!("{}", mask(&out));
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    environment: &'a Environment,
    checks: &'a [Finding],
}

/// The findings as one JSON document on stdout.
pub fn print_json(findings: &[Finding], environment: &Environment) {
    crate::cli::render::json(&Report {
        ok: findings.iter().all(|f| f.status != Status::Failed),
        environment,
        checks: findings,
    });
}
