//! `orchestra scan`: find credentials in the working tree, the index or git history. Thin:
//! the walk, rules, matching and reports live in `crate::scan`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::engine::context::fingerprint_key_path;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::scan::baseline::Baseline;
use crate::scan::{Matcher, Outcome, RuleSet, ScanError, git, hook, report, value, verify, walker};
use crate::secret::FingerprintKey;
use crate::services::{Endpoints, Services};

/// Arguments of `orchestra scan`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra scan                                   the working tree, .gitignore respected
  orchestra scan --history --since v1.2            lines added by each commit since v1.2
  orchestra scan --staged                          what `git commit` would record
  orchestra scan --format sarif > scan.sarif       for GitHub code scanning
  orchestra scan --write-baseline .orchestra-baseline.json
  orchestra scan --baseline .orchestra-baseline.json
  orchestra scan --install-hook                    a pre-commit hook running --staged
  orchestra scan --verify                          ask each issuer: live, refused or unknown
  orchestra scan --verify --only-live              report only what still works

Findings show the rule, file, line, column, commit, a masked preview and a keyed
fingerprint, never the value. Put `orchestra:allow` on a line to suppress it.

--verify sends each value to its own issuer only: GitHub tokens to GitHub's /user,
service-account key files to their token_uri (Google's or one of [gcp].token_uris) and
IAM, Slack webhooks an empty message to [scan].slack_hooks_url, which Slack refuses without
posting; anything else is `unknown`. Off unless asked ([scan].verify = true turns it on;
--no-verify turns it off).

Exit codes: 0 no findings, 1 findings, 2 error")]
pub struct ScanArgs {
    /// The folder (or repository) to scan [default: the working directory]
    path: Option<PathBuf>,

    /// Scan the lines every commit added, not the working tree
    #[arg(long, conflicts_with = "staged")]
    history: bool,

    /// With --history: only commits after REV (`REV..HEAD`)
    #[arg(long, value_name = "REV", requires = "history")]
    since: Option<String>,

    /// Scan the lines added in the index (for a pre-commit hook)
    #[arg(long)]
    staged: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Report only findings not in this baseline
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Write every finding to this baseline file (and exit 0)
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,

    /// Install a git pre-commit hook that runs `orchestra scan --staged`
    #[arg(long, conflicts_with_all = ["history", "staged", "baseline", "write_baseline"])]
    install_hook: bool,

    /// Ask each finding's issuer whether it is live, refused or unknown
    #[arg(long, conflicts_with = "no_verify")]
    verify: bool,

    /// Send nothing anywhere, whatever [scan].verify says (offline use)
    #[arg(long)]
    no_verify: bool,

    /// With verification: report only the findings their issuer accepted
    #[arg(long, conflicts_with = "no_verify")]
    only_live: bool,
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per finding
    Text,
    /// A JSON object with findings and counts
    Json,
    /// SARIF 2.1.0
    Sarif,
}

/// Runs `orchestra scan`: 0 when nothing is found, 1 with findings, 2 on error.
pub fn run(args: &ScanArgs, config: &Config, cwd: &Path) -> Result<ExitStatus, HostError> {
    let usage = |e: ScanError| HostError::Usage(e.to_string());
    let root = args
        .path
        .as_ref()
        .map_or_else(|| cwd.to_owned(), |p| cwd.join(p));
    if args.install_hook {
        let path = hook::install(&root).map_err(usage)?;
        eprintln!("installed {}", path.display());
        return Ok(ExitStatus::Success);
    }
    let rules = RuleSet::from_config(config).map_err(usage)?;
    let key_path = fingerprint_key_path(&config.resolve(&config.paths.state_db));
    let key = Arc::new(fingerprint_key(config, &key_path)?);
    let matcher = Matcher::new(rules.clone(), Arc::clone(&key)).map_err(usage)?;
    let (mut findings, mut stats) = if args.history {
        git::scan_history(&root, &matcher, args.since.as_deref())
    } else if args.staged {
        git::scan_staged(&root, &matcher)
    } else {
        let state_dir = key_path.parent().map(Path::to_path_buf);
        walker::scan_tree(
            &root,
            &matcher,
            config.scan.max_file_size,
            state_dir.as_slice(),
        )
    }
    .map_err(usage)?;

    if let Some(path) = &args.write_baseline {
        Baseline::from_findings(&findings)
            .write(&cwd.join(path))
            .map_err(usage)?;
        eprintln!("wrote {} finding(s) to {}", findings.len(), path.display());
        return Ok(ExitStatus::Success);
    }
    if let Some(path) = &args.baseline {
        let baseline = Baseline::read(&cwd.join(path)).map_err(usage)?;
        let before = findings.len();
        findings.retain(|f| !baseline.contains(f));
        stats.baselined = (before - findings.len()) as u64;
    }

    let verify = !args.no_verify && (args.verify || args.only_live || config.scan.verify);
    if verify && !findings.is_empty() {
        let origin = if args.history {
            value::Origin::History
        } else if args.staged {
            value::Origin::Index
        } else {
            value::Origin::Tree
        };
        verify_findings(config, &root, origin, &matcher, &key, &mut findings)?;
        if args.only_live {
            findings.retain(|f| {
                f.verification
                    .as_ref()
                    .is_some_and(|v| v.outcome == Outcome::Live)
            });
        }
    }

    let out = match args.format {
        Format::Text => report::text(&findings),
        Format::Json => pretty(&report::json(&findings, &stats))?,
        Format::Sarif => pretty(&report::sarif(&findings, &rules))?,
    };
    print!("{out}");
    eprintln!("{}", report::summary(&findings, &stats));
    // Code 1 is the documented "findings" code of `orchestra scan`.
    Ok(if findings.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::PlaybookFailed
    })
}

/// The key findings are fingerprinted with: with a shared state backend the shared one from
/// Secret Manager (so a baseline written on one machine matches on every other), else the
/// folder's key file at `key_path`.
fn fingerprint_key(config: &Config, key_path: &Path) -> Result<FingerprintKey, HostError> {
    let services = Services::new(Endpoints::Configured);
    let Some(place) = crate::runner::shared_key_place(config, &services)? else {
        return FingerprintKey::load_or_create(key_path)
            .map_err(|e| HostError::Usage(ScanError::from(e).to_string()));
    };
    let runtime = async_runtime()?;
    let key = crate::runner::load_shared_key(
        &services,
        config,
        runtime.handle(),
        Arc::new(|| false),
        &place,
        false,
    )
    .map_err(|reason| {
        HostError::Store(crate::store::StoreError::Shared {
            place: format!("Secret Manager ({})", place.secret_name()),
            reason,
        })
    });
    runtime.shutdown_background();
    key
}

/// A small runtime for the calls a scan makes.
fn async_runtime() -> Result<tokio::runtime::Runtime, HostError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| HostError::Io(format!("cannot start the async runtime: {e}")))
}

/// Takes each finding's value out again and asks its issuer about it.
fn verify_findings(
    config: &Config,
    root: &Path,
    origin: value::Origin,
    matcher: &Matcher,
    key: &Arc<FingerprintKey>,
    findings: &mut [crate::scan::Finding],
) -> Result<(), HostError> {
    let runtime = async_runtime()?;
    let services = Services::new(Endpoints::Configured);
    let verifier = services.scan_verifier(
        config,
        Arc::clone(key),
        runtime.handle(),
        Arc::new(|| false),
    );
    let mut items = Vec::new();
    let mut missing = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        match value::recover(root, origin, matcher, key, finding) {
            Ok(Some(found)) => items.push((index, finding.rule.clone(), found.value)),
            Ok(None) => missing.push(index),
            Err(e) => return Err(HostError::Usage(e.to_string())),
        }
    }
    let (indices, work): (Vec<usize>, Vec<(String, crate::secret::Secret)>) = items
        .into_iter()
        .map(|(index, rule, value)| (index, (rule, value)))
        .unzip();
    let verdicts = runtime.block_on(verify::verify_all(Arc::new(verifier), work));
    for (index, verdict) in indices.into_iter().zip(verdicts) {
        findings[index].verification = Some(verdict);
    }
    for index in missing {
        findings[index].verification = Some(crate::scan::Verification::unknown(
            "the value is no longer where it was found",
        ));
    }
    runtime.shutdown_background();
    Ok(())
}

fn pretty(value: &serde_json::Value) -> Result<String, HostError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| HostError::Io(format!("cannot render the report: {e}")))
}
