//! `orchestra scan` against git: history finds what a later commit removed (every planted
//! kind, each with its commit, no value in any format's output), `--staged`
//! reads the index, baselines hide accepted findings, and the pre-commit hook is installed
//! without clobbering someone else's.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::harness::Project;
use crate::scan::{Chars, Planted, assert_no_value, findings, plant_all, scan};

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn token(chars: &Chars) -> String {
    ["ghp", "_", &chars.of(ALNUM, 36)].concat()
}

#[test]
fn history_finds_a_secret_added_then_removed() {
    let project = Project::new();
    let chars = Chars::new();
    let value = token(&chars);
    git(project.path(), &["init", "-q"]);
    project.file("README.md", "hello\n");
    git(project.path(), &["add", "."]);
    git(project.path(), &["commit", "-qm", "first"]);
    project.file("config.py", &format!("import os\nTOKEN = \"{value}\"\n"));
    git(project.path(), &["add", "."]);
    git(project.path(), &["commit", "-qm", "add config"]);
    let added = git(project.path(), &["rev-parse", "HEAD"]);
    project.file("config.py", "import os\nTOKEN = os.environ[\"TOKEN\"]\n");
    git(
        project.path(),
        &["commit", "-qam", "read it from the environment"],
    );

    scan(&project, &[]).expect_code(0);
    let run = scan(&project, &["--history", "--format", "json"]);
    run.expect_code(1);
    let found = findings(&run);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["commit"], added.as_str());
    assert_eq!(found[0]["file"], "config.py");
    assert_eq!(found[0]["line"], 2);
    assert!(!run.stdout.contains(&value) && !run.stderr.contains(&value));

    let since = scan(
        &project,
        &["--history", "--since", &added, "--format", "json"],
    );
    assert!(
        findings(&since).is_empty(),
        "--since excludes the commit itself"
    );
}

#[test]
fn history_finds_every_planted_credential_once_with_its_commit_and_shows_no_value() {
    let project = Project::new();
    let chars = Chars::new();
    git(project.path(), &["init", "-q"]);
    let planted = plant_all(&project, &chars);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-qm", "credentials"]);
    let added = git(project.path(), &["rev-parse", "HEAD"]);
    for p in &planted {
        git(project.path(), &["rm", "-q", p.file]);
    }
    git(project.path(), &["commit", "-qm", "remove them"]);

    scan(&project, &["--format", "json"]).expect_code(0);
    let run = scan(&project, &["--history", "--format", "json"]);
    run.expect_code(1);
    let found: BTreeSet<(String, String, String)> = findings(&run)
        .iter()
        .map(|f| {
            let field = |name: &str| f[name].as_str().unwrap_or("").to_owned();
            (field("rule"), field("file"), field("commit"))
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = planted
        .iter()
        .map(|p| (p.rule.to_owned(), p.file.to_owned(), added.clone()))
        .collect();
    assert_eq!(found, expected, "recall and precision over history");
    assert_eq!(findings(&run).len(), planted.len(), "one finding each");

    for format in ["text", "json", "sarif"] {
        let run = scan(&project, &["--history", "--format", format]);
        run.expect_code(1);
        assert_no_value(&run.stdout, &planted, &format!("{format} history output"));
        assert_no_value(&run.stderr, &planted, &format!("{format} history stderr"));
    }
    assert_state_folder_holds_no_value(&project, &planted);
}

#[test]
fn staged_scans_what_is_about_to_be_committed() {
    let project = Project::new();
    let value = token(&Chars::new());
    git(project.path(), &["init", "-q"]);
    project.file("a.txt", "nothing\n");
    git(project.path(), &["add", "."]);
    git(project.path(), &["commit", "-qm", "first"]);
    project.file("b.txt", &format!("t={value}\n"));
    scan(&project, &["--staged"]).expect_code(0);
    git(project.path(), &["add", "b.txt"]);
    scan(&project, &["--staged"])
        .expect_code(1)
        .stdout_has("b.txt:1:3: github-pat");
}

#[test]
fn a_baseline_hides_old_findings_and_shows_a_new_one() {
    let project = Project::new();
    let chars = Chars::new();
    let mut planted: Vec<Planted> = plant_all(&project, &chars);
    scan(&project, &["--write-baseline", "baseline.json"]).expect_code(0);
    let baseline =
        std::fs::read_to_string(project.path().join("baseline.json")).unwrap_or_default();
    assert!(baseline.contains("\"fingerprint\""));
    assert_no_value(&baseline, &planted, "the baseline");

    scan(&project, &["--baseline", "baseline.json"]).expect_code(0);
    let new = token(&chars);
    project.file("new.py", &format!("T = '{new}'\n"));
    let run = scan(
        &project,
        &["--baseline", "baseline.json", "--format", "json"],
    );
    run.expect_code(1);
    let found = findings(&run);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["file"], "new.py");
    planted.push(Planted {
        rule: "github-pat",
        file: "new.py",
        value: new,
    });
    assert_no_value(&run.stdout, &planted, "json output");
    assert_no_value(&run.stderr, &planted, "stderr");
    assert_state_folder_holds_no_value(&project, &planted);
}

/// No file under the project's `.orchestra` folder holds a planted value.
fn assert_state_folder_holds_no_value(project: &Project, planted: &[Planted]) {
    for entry in walk(project.path().join(".orchestra").as_path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert_no_value(
            &String::from_utf8_lossy(&bytes),
            planted,
            "the state folder",
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn install_hook_writes_a_pre_commit_hook_and_refuses_a_foreign_one() {
    let project = Project::new();
    git(project.path(), &["init", "-q"]);
    scan(&project, &["--install-hook"]).expect_code(0);
    let hook = project.path().join(".git/hooks/pre-commit");
    let text = std::fs::read_to_string(&hook).unwrap_or_default();
    assert!(text.contains("orchestra scan --staged"), "{text}");
    scan(&project, &["--install-hook"]).expect_code(0);

    std::fs::write(&hook, "#!/bin/sh\nmake lint\n").expect("write foreign hook");
    scan(&project, &["--install-hook"])
        .expect_code(2)
        .stderr_has("not written by orchestra");
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap_or_default(),
        "#!/bin/sh\nmake lint\n"
    );
}
