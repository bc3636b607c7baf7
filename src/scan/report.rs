//! Renders findings as text for people, JSON for scripts, or SARIF 2.1.0 for code scanning.
//! Every format carries the masked preview and fingerprint only.

use serde_json::{Value, json};

use super::finding::{Finding, ScanStats};
use super::rules::RuleSet;

/// The SARIF schema the output declares.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// One finding per line: `file:line:col: rule preview fp:…`.
pub fn text(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let commit = f
                .commit
                .as_deref()
                .map(|c| format!(" commit {}", &c[..c.len().min(12)]))
                .unwrap_or_default();
            let verified = f
                .verification
                .as_ref()
                .map(|v| format!(" {}", v.summary()))
                .unwrap_or_default();
            format!(
                "{}:{}:{}: {} {} fp:{}{commit}{verified}\n",
                f.file,
                f.line,
                f.column,
                f.rule,
                f.preview,
                &f.fingerprint[..f.fingerprint.len().min(16)]
            )
        })
        .collect()
}

/// The one-line summary printed on stderr.
pub fn summary(findings: &[Finding], stats: &ScanStats) -> String {
    format!(
        "{} finding(s); {} file(s) scanned, {} binary and {} too large skipped, {} allowlisted, {} hidden by the baseline",
        findings.len(),
        stats.files_scanned,
        stats.skipped_binary,
        stats.skipped_large,
        stats.skipped_allowlisted,
        stats.baselined
    )
}

/// `{"findings": [...], "stats": {...}}`.
pub fn json(findings: &[Finding], stats: &ScanStats) -> Value {
    json!({ "findings": findings, "stats": stats })
}

/// A SARIF 2.1.0 log with one run, the rules that can match, and one result per finding.
pub fn sarif(findings: &[Finding], rules: &RuleSet) -> Value {
    let rule_objects: Vec<Value> = rules
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.spec.id,
                "shortDescription": { "text": r.spec.description },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": "error",
                "message": { "text": format!("{} found: {}", f.rule, f.preview) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file },
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
                "partialFingerprints": { "orchestra/v1": f.fingerprint },
            });
            let mut properties = serde_json::Map::new();
            if let Some(commit) = &f.commit {
                properties.insert("commit".into(), json!(commit));
            }
            if let Some(verification) = &f.verification {
                properties.insert("verification".into(), json!(verification));
            }
            if let (false, Some(map)) = (properties.is_empty(), result.as_object_mut()) {
                map.insert("properties".into(), Value::Object(properties));
            }
            result
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "orchestra",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rule_objects,
                }
            },
            "results": results,
        }]
    })
}
