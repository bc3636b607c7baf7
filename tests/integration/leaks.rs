//! A secret's value never reaches stdout, stderr, the log file or the state database, by any
//! path a script can try; with a shared state, not the Firestore documents either.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::harness::Project;

pub(crate) const LEAK_PATHS: &str = r#"
let s = secret::from_env("LEAK_TEST_SECRET");
print(s);
debug(s);
print(`interpolated ${s}`);
print("prefix " + s);
try { print(s + " suffix"); } catch (e) { print(e); }
print(s.to_string());
print(s.to_debug());
print(#{ token: s }.to_json());
print([s, 1]);
print(#{ inner: s });
print(type_of(s));
print(s.fingerprint());
let m = #{};
try { m[s] = 1; print(m); } catch (e) { print(e); }
m[`${s}`] = 1;
print(m.keys());
try { throw s; } catch (e) { print(e); }
try { throw "built from " + s; } catch (e) { print(e); }
try { if s == "a guess" { print("equal"); } } catch (e) { print(e); }
try { if "a guess" != s { print("differs"); } } catch (e) { print(e); }
try { print(s.len()); } catch (e) { print(e); }
try { print("x" in s); } catch (e) { print(e); }
try { state::set("leak", s); } catch (e) { print(e); }
try { state::set("leak", #{ nested: [s] }); } catch (e) { print(`${e.primitive}: ${e.message}`); }
state::set("interpolated", `${s}`);
debug(#{ a: s });
throw s;
"#;

pub(crate) fn canary() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("random");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("canary-{hex}")
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_below(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub(crate) fn assert_absent(haystack: &[u8], needles: &[String], place: &str) {
    for needle in needles {
        let found = haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes());
        assert!(!found, "secret value ({needle}) found in {place}");
    }
}

#[test]
fn a_secret_never_leaks_by_any_script_path() {
    let project = Project::new();
    project
        .config("[scope]\nenv = [\"LEAK_TEST_SECRET\"]\n")
        .playbook("leak.rhai", LEAK_PATHS);
    let value = canary();
    let needles = vec![
        value.clone(),
        STANDARD.encode(&value),
        URL_SAFE_NO_PAD.encode(&value),
    ];
    let mut outputs = Vec::new();
    for format in ["text", "json"] {
        let output = project
            .command()
            .args([
                "-vv",
                "--log-format",
                format,
                "--log-file",
                &format!(".orchestra/{format}.log"),
                "play",
                "leak",
            ])
            .env("LEAK_TEST_SECRET", &value)
            .output()
            .expect("run");
        assert_eq!(
            output.status.code(),
            Some(1),
            "the final throw fails the run"
        );
        outputs.push(output);
    }

    let text_run = &outputs[0];
    let stdout = String::from_utf8_lossy(&text_run.stdout);
    let stderr = String::from_utf8_lossy(&text_run.stderr);
    assert!(stdout.contains("interpolated Secret(fp:"), "{stdout}");
    assert!(stdout.contains("a Secret cannot be compared"), "{stdout}");
    assert!(
        stdout.contains("refusing to store a Secret (at value.nested[0])"),
        "{stdout}"
    );
    assert!(!stdout.contains("equal") && !stdout.contains("differs"));
    assert!(stderr.contains("thrown: Secret(fp:"), "{stderr}");

    for (i, output) in outputs.iter().enumerate() {
        assert_absent(&output.stdout, &needles, &format!("stdout of run {i}"));
        assert_absent(&output.stderr, &needles, &format!("stderr of run {i}"));
    }
    let files = files_below(&project.path().join(".orchestra"));
    assert!(files.iter().any(|f| f.ends_with("state.db")));
    assert!(files.iter().any(|f| f.ends_with("text.log")));
    for file in files {
        let bytes = std::fs::read(&file).expect("read");
        assert_absent(&bytes, &needles, &file.display().to_string());
    }
    let log = std::fs::read_to_string(project.path().join(".orchestra/text.log")).expect("log");
    assert!(
        log.contains("Secret(fp:"),
        "debug lines are logged, redacted"
    );
}

#[test]
fn key_files_tokens_and_payloads_never_leak_through_the_cloud_primitives() {
    let project = Project::new();
    project
        .config("[scope]\ngcp_projects = [\"demo-project\"]\ngithub_repos = [\"acme/api\"]\nenv = [\"PAYLOAD\", \"PAT\"]\n")
        .playbook(
            "cloud.rhai",
            r#"
let key = iam::create_key("deployer@demo-project.iam.gserviceaccount.com");
print(key); debug(key); print(key.json); print(`${key.json}`);
secrets::create("sa-key");
secrets::add_version("sa-key", key.json, #{ alias: "pending" });
github::put_secret("acme/api", "GCP_SA_KEY", secrets::access("sa-key", "pending"));
secrets::create("payload");
secrets::add_version("payload", secret::from_env("PAYLOAD"), #{});
let back = secrets::access_many(["payload", "sa-key"]);
print(back); debug(back);
let pat = secret::from_env("PAT");
print(github::check_token(pat));
try { state::set("key", key); } catch (e) { print(e.message); }
notify::slack("ops", `rotated ${key.id}: ${key.json}`);
throw key.json;
"#,
        );
    let payload = "payload-value-that-must-stay-inside-91c2";
    let pat = DEMO_TOKEN;
    let output = project
        .command()
        .args([
            "-vv",
            "--log-file",
            ".orchestra/cloud.log",
            "play",
            "cloud",
            "--emulate",
        ])
        .env("PAYLOAD", payload)
        .env("PAT", pat)
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let needles = vec![
        "PRIVATE KEY".to_owned(),
        "private_key\"".to_owned(),
        payload.to_owned(),
        pat.to_owned(),
        STANDARD.encode(payload),
    ];
    assert_absent(&output.stdout, &needles, "stdout");
    assert_absent(&output.stderr, &needles, "stderr");
    for file in files_below(&project.path().join(".orchestra")) {
        let bytes = std::fs::read(&file).expect("read");
        assert_absent(&bytes, &needles, &file.display().to_string());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("refusing to store a Secret (at value.json)"),
        "{stdout}"
    );
}

const DEMO_TOKEN: &str = "ghp_orchestraDemoToken0000000000000000";

/// The shared fingerprint key of the state under `prefix` (made in `emulator`'s Secret
/// Manager), as it could appear in a document: hex and base64.
pub(crate) fn shared_key_forms(
    emulator: &crate::harness::EmulatorProcess,
    prefix: &str,
) -> Vec<String> {
    let state = emulator.state();
    let stored = &state["google"]["secrets"]
        [format!("projects/demo-project/secrets/{prefix}-fingerprint-key")]["versions"][0]["data"];
    let key = STANDARD
        .decode(stored.as_str().expect("the shared key was made"))
        .expect("base64");
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    vec![hex, STANDARD.encode(&key), URL_SAFE_NO_PAD.encode(&key)]
}

/// The Firestore part: breakers, alerts, rate-limit and budget history written by a run with
/// `[state] backend = "firestore"`, read back through the emulator, hold no secret value and
/// no fingerprint key (its bytes in hex or base64).
#[test]
fn the_shared_families_hold_no_secret_and_no_fingerprint_key() {
    use orchestra::firestore_emulator::FirestoreEmulator;

    use crate::state_shared_families::{record_every_family, shared_folder};
    use crate::state_shared_rotation::shared_documents;

    let firestore = FirestoreEmulator::start().expect("the Firestore emulator starts");
    let home = Project::new();
    let emulator = crate::harness::EmulatorProcess::start(&home);
    let project = shared_folder(&emulator, "leaky", "machine-a");
    let value = canary();
    let run = record_every_family(&project, &firestore, &emulator, &value);

    let mut needles = vec![
        value.clone(),
        STANDARD.encode(&value),
        URL_SAFE_NO_PAD.encode(&value),
        crate::harness::DEMO_GITHUB_TOKEN.to_owned(),
    ];
    needles.extend(shared_key_forms(&emulator, "leaky"));
    let documents = shared_documents(&firestore, "leaky");
    for family in [
        "breakers",
        "alerts",
        "rate_limits",
        "rate_limits_latest",
        "budget",
    ] {
        let place = format!("leaky_{family}");
        let (_, bytes) = documents
            .iter()
            .find(|(p, _)| p.ends_with(&place))
            .unwrap_or_else(|| panic!("the run wrote {place}"));
        let json: serde_json::Value = serde_json::from_slice(bytes).expect("json");
        assert!(
            json["documents"].as_array().is_some_and(|d| !d.is_empty()),
            "{place} holds the run's documents"
        );
    }
    for (place, bytes) in &documents {
        assert_absent(bytes, &needles, place);
    }
    assert_absent(run.stdout.as_bytes(), &needles, "stdout");
    assert_absent(run.stderr.as_bytes(), &needles, "stderr");
}
