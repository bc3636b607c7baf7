//! `orchestra init`: a commented `orchestra.toml` for the repository in the working directory,
//! filled from what can be detected (the active gcloud configuration's project and account,
//! read from its files; the GitHub owner/repo of the git remote; the environment), asking for
//! the rest on a terminal. It never writes a secret: credentials are named by the variables
//! orchestra reads them from.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::DEFAULT_CONFIG_FILE;
use crate::error::HostError;
use crate::exit::ExitStatus;

/// Arguments of `orchestra init`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra init            # write orchestra.toml here, asking for what it cannot detect
  orchestra init --force    # replace an existing orchestra.toml
Then `orchestra doctor` says what is still missing.")]
pub struct InitArgs {
    /// Replace an existing orchestra.toml
    #[arg(long)]
    force: bool,
}

/// What was detected (or answered) for the file.
#[derive(Debug, Default)]
struct Detected {
    project: Option<String>,
    account: Option<String>,
    gcloud_configuration: Option<String>,
    repo: Option<String>,
}

/// Runs `orchestra init`.
pub fn run(args: &InitArgs, cwd: &Path) -> Result<ExitStatus, HostError> {
    let target = cwd.join(DEFAULT_CONFIG_FILE);
    if target.exists() && !args.force {
        return Err(HostError::Usage(format!(
            "{} already exists: not replaced (add --force to overwrite it)",
            target.display()
        )));
    }
    let mut detected = Detected::default();
    if let Some(dir) = gcloud_dir() {
        read_gcloud(&dir, &mut detected);
    }
    detected.repo = git_remote_repo(cwd);
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if interactive {
        ask(&mut detected)?;
    }
    let environment = crate::config::environment::detect(false);
    let text = render(&detected, &environment.describe());
    std::fs::write(&target, text)
        .map_err(|e| HostError::Io(format!("cannot write {}: {e}", target.display())))?;
    eprintln!("wrote {}", target.display());
    let missing: Vec<&str> = [
        ("[gcp].project", detected.project.is_none()),
        ("[scope].github_repos", detected.repo.is_none()),
    ]
    .iter()
    .filter(|(_, missing)| *missing)
    .map(|(name, _)| *name)
    .collect();
    if !missing.is_empty() {
        eprintln!(
            "not detected, left as commented placeholders: {}",
            missing.join(", ")
        );
    }
    eprintln!("next: `orchestra doctor` says what is still missing");
    Ok(ExitStatus::Success)
}

/// gcloud's configuration folder: `CLOUDSDK_CONFIG`, else `~/.config/gcloud`.
fn gcloud_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLOUDSDK_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config/gcloud"))
}

/// The active configuration's `[core] project` and `account` (`active_config` names it;
/// `CLOUDSDK_ACTIVE_CONFIG_NAME` overrides; `default` otherwise).
fn read_gcloud(dir: &Path, detected: &mut Detected) {
    let name = std::env::var("CLOUDSDK_ACTIVE_CONFIG_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| {
            std::fs::read_to_string(dir.join("active_config"))
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        })
        .unwrap_or_else(|| "default".to_owned());
    // A name with a path separator would read outside the folder.
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return;
    }
    let Ok(text) =
        std::fs::read_to_string(dir.join("configurations").join(format!("config_{name}")))
    else {
        return;
    };
    detected.project = ini_value(&text, "core", "project");
    detected.account = ini_value(&text, "core", "account");
    detected.gcloud_configuration = Some(name);
}

/// `key = value` in `[section]` of an INI text.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_owned();
        } else if current == section
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        }
    }
    None
}

/// `owner/repo` of the `origin` remote, when it is on github.com.
fn git_remote_repo(cwd: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["remote", "get-url", "origin"])
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    github_repo_of(String::from_utf8(out.stdout).ok()?.trim())
}

/// `owner/repo` of a GitHub remote URL (`git@github.com:o/r.git`, `https://github.com/o/r`).
fn github_repo_of(url: &str) -> Option<String> {
    let path = url
        .strip_prefix("git@github.com:")
        .or_else(|| url.strip_prefix("https://github.com/"))
        .or_else(|| url.strip_prefix("ssh://git@github.com/"))
        .or_else(|| url.strip_prefix("http://github.com/"))?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, repo) = path.split_once('/')?;
    let fine = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (fine(owner) && fine(repo)).then(|| format!("{owner}/{repo}"))
}

fn ask(detected: &mut Detected) -> Result<(), HostError> {
    let prompt = |question: &str| -> Result<Option<String>, HostError> {
        let answer: String = dialoguer::Input::new()
            .with_prompt(question)
            .allow_empty(true)
            .interact_text()
            .map_err(|e| HostError::Io(format!("cannot read the answer: {e}")))?;
        Ok(Some(answer.trim().to_owned()).filter(|a| !a.is_empty()))
    };
    if detected.project.is_none() {
        detected.project = prompt("Google Cloud project id (empty to leave it out)")?;
    }
    if detected.repo.is_none() {
        detected.repo = prompt("GitHub repository, owner/name (empty to leave it out)")?;
    }
    Ok(())
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn render(detected: &Detected, environment: &str) -> String {
    let mut seen = Vec::new();
    if let (Some(project), Some(name)) = (&detected.project, &detected.gcloud_configuration) {
        seen.push(format!(
            "gcloud project {project} (configuration \"{name}\")"
        ));
    }
    if let Some(repo) = &detected.repo {
        seen.push(format!("GitHub {repo} (git remote origin)"));
    }
    seen.push(format!("environment: {environment}"));
    let mut out = String::new();
    out.push_str("# orchestra.toml, written by `orchestra init`.\n");
    out.push_str(&format!("# Detected: {}.\n", seen.join("; ")));
    out.push_str("# No secret belongs here: credentials are read from the variables and files named below.\n");
    out.push_str("# `orchestra doctor` checks this setup and says what is still missing.\n\n");
    out.push_str("[paths]\n# Playbooks, shared modules and the run-state database, relative to this file.\nplaybooks = \"playbooks\"\nstdlib = \"stdlib\"\nstate_db = \".orchestra/state.db\"\n\n");
    out.push_str("[gcp]\n");
    match &detected.project {
        Some(project) => out.push_str(&format!(
            "# The project short secret names belong to.\nproject = {}\n",
            quoted(project)
        )),
        None => out.push_str(
            "# Not detected: set the project id (gcloud config set project ID, then init --force).\n# project = \"my-project\"\n",
        ),
    }
    match &detected.account {
        Some(account) => out.push_str(&format!(
            "# gcloud is logged in as {account}; orchestra uses Application Default Credentials\n# (`gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS).\n"
        )),
        None => out.push_str(
            "# Credentials: Application Default Credentials (`gcloud auth application-default login`,\n# or GOOGLE_APPLICATION_CREDENTIALS naming a key or external-account file).\n",
        ),
    }
    out.push_str("credentials = \"adc\"\n\n");
    out.push_str("[github]\n# The token is read from this environment variable: export it, never write it here.\ntoken_env = \"GITHUB_TOKEN\"\n\n");
    out.push_str(
        "[scope]\n# What playbooks may touch; anything else is refused before a request leaves.\n",
    );
    match &detected.project {
        Some(project) => out.push_str(&format!("gcp_projects = [{}]\n", quoted(project))),
        None => out.push_str("gcp_projects = []\n"),
    }
    match &detected.repo {
        Some(repo) => out.push_str(&format!("github_repos = [{}]\n", quoted(repo))),
        None => out.push_str(
            "# Not detected (no GitHub remote named origin): list owner/name repositories.\ngithub_repos = []\n",
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_remotes_give_owner_and_repo() {
        assert_eq!(
            github_repo_of("git@github.com:acme/api.git").as_deref(),
            Some("acme/api")
        );
        assert_eq!(
            github_repo_of("https://github.com/acme/api").as_deref(),
            Some("acme/api")
        );
        assert_eq!(github_repo_of("https://gitlab.com/acme/api"), None);
        assert_eq!(github_repo_of("git@github.com:acme/a\"b.git"), None);
    }

    #[test]
    fn the_core_section_is_read() {
        let text =
            "[core]\naccount = me@acme.example\nproject = acme-prod\n[compute]\nregion = x\n";
        assert_eq!(
            ini_value(text, "core", "project").as_deref(),
            Some("acme-prod")
        );
        assert_eq!(ini_value(text, "compute", "project"), None);
    }
}
