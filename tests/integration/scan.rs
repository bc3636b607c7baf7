//! `orchestra scan` over a generated tree: one planted credential per rule in several file
//! types, look-alikes that must stay silent, SARIF structure, and no planted value in any
//! output. Every planted value is made at test time from random characters and split
//! prefixes, so this file holds nothing a scanner would call a credential.

use std::cell::Cell;
use std::collections::BTreeSet;

use crate::harness::{Project, Run};

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Random characters for planted values (xorshift, seeded from the clock and pid).
pub struct Chars {
    state: Cell<u64>,
}

impl Chars {
    pub fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Self {
            state: Cell::new(nanos ^ (u64::from(std::process::id()) << 32) | 1),
        }
    }

    fn next(&self) -> u64 {
        let mut x = self.state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.set(x);
        x
    }

    /// `len` characters of `alphabet`, always with a digit when the alphabet has one.
    pub fn of(&self, alphabet: &str, len: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let mut out: String = (0..len)
            .map(|_| chars[(self.next() % chars.len() as u64) as usize])
            .collect();
        if alphabet.contains('7') && !out.bytes().any(|b| b.is_ascii_digit()) {
            out.replace_range(0..1, "7");
        }
        out
    }
}

/// One planted credential: the rule that must find it, the file, and the value.
pub struct Planted {
    pub rule: &'static str,
    pub file: &'static str,
    pub value: String,
}

fn pem_body(chars: &Chars, separator: &str) -> String {
    (0..4)
        .map(|_| chars.of(BASE64, 64))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Writes one credential per rule into `project`, each in its own file type.
pub fn plant_all(project: &Project, chars: &Chars) -> Vec<Planted> {
    let gh = |prefix: &str| [prefix, "_", &chars.of(ALNUM, 36)].concat();
    let planted = vec![
        Planted {
            rule: "github-pat",
            file: "src/config.py",
            value: gh("ghp"),
        },
        Planted {
            rule: "github-oauth-token",
            file: "web/app.js",
            value: gh("gho"),
        },
        Planted {
            rule: "github-user-to-server-token",
            file: "deploy/settings.yaml",
            value: gh("ghu"),
        },
        Planted {
            rule: "github-installation-token",
            file: "scripts/deploy.sh",
            value: gh("ghs"),
        },
        Planted {
            rule: "github-refresh-token",
            file: "docs/notes.md",
            value: gh("ghr"),
        },
        Planted {
            rule: "github-fine-grained-pat",
            file: ".env",
            value: [
                "github",
                "_pat_",
                &chars.of(ALNUM, 22),
                "_",
                &chars.of(ALNUM, 59),
            ]
            .concat(),
        },
        Planted {
            rule: "gcp-api-key",
            file: "web/firebase.json",
            value: ["AI", "za", &chars.of(ALNUM, 35)].concat(),
        },
        Planted {
            rule: "gcp-service-account-key",
            file: "keys/deployer.json",
            value: [
                "-----BEGIN ",
                "PRIVATE KEY-----\\n",
                &pem_body(chars, "\\n"),
                "\\n-----END ",
                "PRIVATE KEY-----\\n",
            ]
            .concat(),
        },
        Planted {
            rule: "slack-bot-token",
            file: "config/slack.toml",
            value: [
                "xo",
                "xb-",
                &chars.of(DIGITS, 11),
                "-",
                &chars.of(DIGITS, 12),
                "-",
                &chars.of(ALNUM, 24),
            ]
            .concat(),
        },
        Planted {
            rule: "slack-user-token",
            file: "src/Main.java",
            value: [
                "xo",
                "xp-",
                &chars.of(DIGITS, 11),
                "-",
                &chars.of(DIGITS, 11),
                "-",
                &chars.of(DIGITS, 12),
                "-",
                &chars.of(ALNUM, 32),
            ]
            .concat(),
        },
        Planted {
            rule: "slack-webhook",
            file: "ops/alerts.yml",
            value: [
                "https://hooks.",
                "slack.com/services/T",
                &chars.of(UPPER_DIGITS, 9),
                "/B",
                &chars.of(UPPER_DIGITS, 9),
                "/",
                &chars.of(ALNUM, 24),
            ]
            .concat(),
        },
        Planted {
            rule: "aws-access-key-id",
            file: "config/aws.ini",
            value: ["AK", "IA", &chars.of(UPPER_DIGITS, 16)].concat(),
        },
        Planted {
            rule: "private-key",
            file: "keys/id_rsa",
            value: [
                "-----BEGIN RSA ",
                "PRIVATE KEY-----\n",
                &pem_body(chars, "\n"),
            ]
            .concat(),
        },
        Planted {
            rule: "jwt",
            file: "src/auth.go",
            value: [
                "ey",
                "J",
                &chars.of(ALNUM, 30),
                ".ey",
                "J",
                &chars.of(ALNUM, 40),
                ".",
                &chars.of(ALNUM, 43),
            ]
            .concat(),
        },
        Planted {
            rule: "generic-password",
            file: "app/db.rb",
            value: chars.of(ALNUM, 20),
        },
        Planted {
            rule: "generic-password-env",
            file: "app.properties",
            value: chars.of(ALNUM, 24),
        },
        Planted {
            rule: "connection-string-password",
            file: "docker-compose.yml",
            value: chars.of(ALNUM, 18),
        },
    ];
    let v = |rule: &str| {
        planted
            .iter()
            .find(|p| p.rule == rule)
            .map(|p| p.value.clone())
            .unwrap_or_default()
    };
    project
        .file("src/config.py", &format!("import os\n\nGITHUB_TOKEN = \"{}\"\n", v("github-pat")))
        .file("web/app.js", &format!("const oauth = '{}';\n", v("github-oauth-token")))
        .file("deploy/settings.yaml", &format!("github:\n  user_token: {}\n", v("github-user-to-server-token")))
        .file("scripts/deploy.sh", &format!("#!/bin/sh\nexport INSTALL_TOKEN={}\n", v("github-installation-token")))
        .file("docs/notes.md", &format!("The refresh token was {} until today.\n", v("github-refresh-token")))
        .file(".env", &format!("GH_FINE={}\n", v("github-fine-grained-pat")))
        .file("web/firebase.json", &format!("{{\n  \"apiKey\": \"{}\"\n}}\n", v("gcp-api-key")))
        .file(
            "keys/deployer.json",
            &format!(
                "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n  \"private_key\": \"{}\",\n  \"client_email\": \"deployer@demo.iam.gserviceaccount.com\"\n}}\n",
                v("gcp-service-account-key")
            ),
        )
        .file("config/slack.toml", &format!("[slack]\nbot = \"{}\"\n", v("slack-bot-token")))
        .file("src/Main.java", &format!("class Main {{\n  String t = \"{}\";\n}}\n", v("slack-user-token")))
        .file("ops/alerts.yml", &format!("alerts:\n  url: {}\n", v("slack-webhook")))
        .file("config/aws.ini", &format!("[default]\naws_access_key_id = {}\n", v("aws-access-key-id")))
        .file("keys/id_rsa", &format!("{}\n-----END RSA PRIVATE KEY-----\n", v("private-key")))
        .file("src/auth.go", &format!("package auth\n\nvar token = \"{}\"\n", v("jwt")))
        .file("app/db.rb", &format!("config.password = \"{}\"\n", v("generic-password")))
        .file("app.properties", &format!("db.secret={}\n", v("generic-password-env")))
        .file(
            "docker-compose.yml",
            &format!("services:\n  api:\n    environment:\n      DATABASE_URL: postgres://app:{}@db:5432/app\n", v("connection-string-password")),
        );
    planted
}

/// Writes look-alikes that no rule may report.
pub fn plant_look_alikes(project: &Project, chars: &Chars) {
    let x = |n: usize| "X".repeat(n);
    let uuid = [
        chars.of(HEX, 8),
        chars.of(HEX, 4),
        chars.of(HEX, 4),
        chars.of(HEX, 4),
        chars.of(HEX, 12),
    ]
    .join("-");
    project
        .file("placeholders.py", &format!("TOKEN = \"{}\"\nOTHER = \"{}\"\n", ["ghp", "_", &x(36)].concat(), ["github", "_pat_", &x(82)].concat()))
        .file(".env.example", "GITHUB_TOKEN=ghp_your_token_here\nSLACK_TOKEN=your-token-here\nDB_PASSWORD=changeme\n")
        .file("config.yaml", "password: \"your-password-here\"\napi_key: \"<your api key>\"\nsecret: \"${APP_SECRET}\"\n")
        .file("ids.json", &format!("{{ \"api_key_id\": \"{uuid}\", \"request\": \"{uuid}\" }}\n"))
        .file(
            "hashes.txt",
            &format!(
                "commit {}\nsha256:{}\ntoken_sha = \"{}\"\n",
                chars.of(HEX, 40),
                chars.of(HEX, 64),
                chars.of(HEX, 64)
            ),
        )
        .file("aws.md", &["The documented example key is AK", "IAIOSFODNN7EXAMPLE.\n"].concat())
        .file("key.md", "```\n-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n```\n")
        .file(
            "keys/placeholder.pem",
            &["-----BEGIN ", "PRIVATE KEY-----\n", &[x(64), x(64), x(20)].join("\n"), "\n-----END PRIVATE KEY-----\n"].concat(),
        )
        .file(
            "keys/placeholder-sa.json",
            &["{ \"type\": \"service_account\", \"private_key\": \"-----BEGIN ", "PRIVATE KEY-----\\n", &["MIIE", &x(70), "\\n", &x(64)].concat(), "\\n-----END PRIVATE KEY-----\\n\" }\n"].concat(),
        )
        .file(
            "slack.md",
            &["https://hooks.", "slack.com/services/T00000000/B00000000/", &x(24), "\n"].concat(),
        )
        .file("maps.js", &["const key = 'AI", "zaSy", &x(33), "';\n"].concat())
        .file("db.md", "postgres://user:password@localhost/db\npostgres://app:${DB_PASSWORD}@db/app\n")
        .file("jwt.md", "an unsigned token: eyJhbGciOiJub25lIn0.eyJzdWIiOiJleGFtcGxlIn0.\n")
        .file("prose.md", "Installation tokens start with ghs_ followed by 36 characters.\n")
        .file("code.rs", "let password = secret::from_env(\"DB_PASSWORD\");\nlet token = args.token.clone();\n");
}

pub fn scan(project: &Project, args: &[&str]) -> Run {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    project.run(&all)
}

pub fn findings(run: &Run) -> Vec<serde_json::Value> {
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("scan --format json printed no JSON ({e}):\n{}", run.stdout));
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// Asserts no planted value is in `text`.
pub fn assert_no_value(text: &str, planted: &[Planted], what: &str) {
    for p in planted {
        assert!(
            !text.contains(&p.value),
            "{what} contains the {} value",
            p.rule
        );
        // A long part of a value is a leak too (e.g. a PEM body line).
        let tail = &p.value[p.value.len() - 16..];
        assert!(
            !text.contains(tail),
            "{what} contains part of the {} value",
            p.rule
        );
    }
}

#[test]
fn every_planted_credential_is_found_once_by_its_rule() {
    let project = Project::new();
    let chars = Chars::new();
    let planted = plant_all(&project, &chars);
    let run = scan(&project, &["--format", "json"]);
    run.expect_code(1);
    let found: BTreeSet<(String, String)> = findings(&run)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_owned(),
                f["file"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = planted
        .iter()
        .map(|p| (p.rule.to_owned(), p.file.to_owned()))
        .collect();
    assert_eq!(found, expected, "recall and precision on the planted set");
    assert_eq!(
        findings(&run).len(),
        planted.len(),
        "one finding per planted value"
    );
}

#[test]
fn look_alikes_are_not_reported() {
    let project = Project::new();
    plant_look_alikes(&project, &Chars::new());
    let run = scan(&project, &["--format", "json"]);
    assert_eq!(
        findings(&run),
        Vec::<serde_json::Value>::new(),
        "{}",
        run.stderr
    );
    run.expect_code(0);
}

#[test]
fn text_output_names_the_place_and_masks_the_value() {
    let project = Project::new();
    let value = ["ghp", "_", &Chars::new().of(ALNUM, 36)].concat();
    project.file("a/b.py", &format!("x = 1\ntoken = \"{value}\"\n"));
    let run = scan(&project, &[]);
    run.expect_code(1)
        .stdout_has("a/b.py:2:10: github-pat ghp_… (40 chars) fp:")
        .stderr_has("1 finding(s)");
    assert!(!run.stdout.contains(&value) && !run.stderr.contains(&value));
}

#[test]
fn the_allow_marker_suppresses_its_line_only() {
    let project = Project::new();
    let chars = Chars::new();
    let allowed = ["AK", "IA", &chars.of(UPPER_DIGITS, 16)].concat();
    let other = ["AK", "IA", &chars.of(UPPER_DIGITS, 16)].concat();
    project.file(
        "aws.sh",
        &format!("A={allowed} # orchestra:allow (documented test account)\nB={other}\n"),
    );
    let run = scan(&project, &["--format", "json"]);
    run.expect_code(1);
    let lines: Vec<u64> = findings(&run)
        .iter()
        .filter_map(|f| f["line"].as_u64())
        .collect();
    assert_eq!(lines, vec![2]);
}

#[test]
fn gitignored_files_are_skipped_and_binary_files_counted() {
    let project = Project::new();
    let value = ["ghp", "_", &Chars::new().of(ALNUM, 36)].concat();
    project
        .file(".gitignore", "build/\n")
        .file("build/out.txt", &format!("{value}\n"))
        .file("blob.bin", &format!("\u{0}\u{1}{value}"));
    std::process::Command::new("git")
        .arg("init")
        .arg("-q")
        .current_dir(project.path())
        .status()
        .ok();
    let run = scan(&project, &["--format", "json"]);
    run.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    assert_eq!(report["stats"]["skipped_binary"], 1);
}

#[test]
fn scan_rules_come_from_config_extra_and_disabled() {
    let project = Project::new();
    let chars = Chars::new();
    let planted = plant_all(&project, &chars);
    let custom = ["acme", "_", &chars.of(ALNUM, 30)].concat();
    project.file("acme.txt", &format!("{custom}\n")).config(
        "[scan]\ndisabled_rules = [\"jwt\"]\nallow_paths = ['^keys/']\n\n[[scan.rules]]\nid = \"acme-token\"\ndescription = \"Acme API token\"\nkeywords = [\"acme_\"]\nregex = '''\\b(acme_[A-Za-z0-9]{30})\\b'''\npreview = 5\n",
    );
    let run = scan(&project, &["--format", "json"]);
    let rules: BTreeSet<String> = findings(&run)
        .iter()
        .filter_map(|f| f["rule"].as_str().map(str::to_owned))
        .collect();
    assert!(rules.contains("acme-token"), "{rules:?}");
    assert!(
        !rules.contains("jwt") && !rules.contains("private-key"),
        "{rules:?}"
    );
    assert_no_value(&run.stdout, &planted, "json output");
}

#[test]
fn a_bad_scan_rule_is_an_error_naming_the_field() {
    let project = Project::new();
    project.config("[scan]\nallow_regexes = [\"(\"]\n");
    scan(&project, &[])
        .expect_code(2)
        .stderr_has("allow_regexes[0]");
}

#[test]
fn sarif_output_has_the_2_1_0_structure() {
    let project = Project::new();
    let planted = plant_all(&project, &Chars::new());
    let run = scan(&project, &["--format", "sarif"]);
    run.expect_code(1);
    assert_no_value(&run.stdout, &planted, "SARIF output");
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = log["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "orchestra");
    let rule_ids: BTreeSet<&str> = driver["rules"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default();
    let results = runs[0]["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), planted.len());
    for result in &results {
        let rule = result["ruleId"].as_str().unwrap_or("");
        assert!(
            rule_ids.contains(rule),
            "ruleId {rule} not among the driver's rules"
        );
        assert!(
            result["message"]["text"].is_string(),
            "result.message.text is required"
        );
        let location = &result["locations"][0]["physicalLocation"];
        assert!(location["artifactLocation"]["uri"].is_string());
        assert!(
            location["region"]["startLine"]
                .as_u64()
                .is_some_and(|l| l >= 1)
        );
        assert!(
            location["region"]["startColumn"]
                .as_u64()
                .is_some_and(|c| c >= 1)
        );
        assert!(result["partialFingerprints"]["orchestra/v1"].is_string());
    }
}

#[test]
fn the_repository_itself_has_no_findings() {
    let project = Project::new();
    let run = scan(&project, &["--format", "json", env!("CARGO_MANIFEST_DIR")]);
    assert_eq!(findings(&run), Vec::<serde_json::Value>::new());
    run.expect_code(0);
}
