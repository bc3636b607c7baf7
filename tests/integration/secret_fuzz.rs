//! Random and adversarial byte strings as Secret values, through every primitive that takes a
//! Secret: no run output, log line, error the script caught and stored, or file of the run
//! holds a value, its base64 or hex form, or any 12-byte window of them.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::os::unix::ffi::OsStrExt;

use crate::harness::{DEMO_GITHUB_TOKEN, EmulatorProcess, Project, Run};
use crate::leaks::files_below;

/// Values chosen to trip parsers into quoting them: JSON fragments, numbers, quotes,
/// newlines, PEM and URL look-alikes, control bytes, invalid UTF-8.
fn adversarial() -> Vec<Vec<u8>> {
    [
        "{\"type\":\"service_account\",\"private_key_id\":\"zz9Quux\",\"client_email\":\"a@b.c\"}",
        "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nQm9ndXNQRU0=\\n-----END PRIVATE KEY-----\\n\"}",
        "98765432109876543210987654321e999",
        "\"Quux7zz9Quux7\"\n",
        "-----BEGIN RSA PRIVATE KEY-----\nQm9ndXNLZXlCb2R5\n-----END RSA PRIVATE KEY-----",
        "https://hooks.slack.invalid/services/T0/B0/Quux7zz9Quux7zz9",
        "ghp_Quux7zz9Quux7zz9Quux7zz9Quux7zz9Qu",
        "line one Quux7\r\nline two zz9\u{7}\u{1b}[31m",
        "{\"monthly_usd\": \"Quux7zz9\"}",
        "é’Quux7zz9✓",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([
        vec![0xff, 0xfe, b'Q', b'u', b'u', b'x', b'7', 0x80, b'z', b'z', b'9', 0xc3],
        b"Quux7zz9".iter().rev().copied().collect(),
    ])
    .collect()
}

/// Random values of 12 to 60 bytes, printable and not, never NUL (an environment variable
/// cannot hold one).
fn random(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut bytes = vec![0u8; 12 + (i * 7) % 49];
            getrandom::fill(&mut bytes).expect("random");
            for (j, b) in bytes.iter_mut().enumerate() {
                if *b == 0 {
                    *b = b'x';
                }
                // Half the values printable ASCII, so text sinks get a fair chance to show them.
                if i % 2 == 0 {
                    *b = b'!' + (*b % 94);
                    if j == 0 {
                        *b = b'Q';
                    }
                }
            }
            bytes
        })
        .collect()
}

/// What to look for: the value, its encodings, and each 12-byte window of those.
fn needles(value: &[u8]) -> Vec<Vec<u8>> {
    let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
    let forms = [
        value.to_vec(),
        STANDARD.encode(value).into_bytes(),
        URL_SAFE_NO_PAD.encode(value).into_bytes(),
        hex.into_bytes(),
    ];
    let mut out = Vec::new();
    for form in forms {
        if form.len() <= 12 {
            out.push(form);
        } else {
            out.extend(form.windows(12).map(<[u8]>::to_vec));
        }
    }
    // A window made of one repeated printable byte or of plain PEM framing says nothing.
    // Nor does a window of the fixed sentence that names the expected key-file shape, which
    // the adversarial JSON values copy on purpose.
    let shape = orchestra::secret::shape::KEY_FILE_SHAPE.as_bytes();
    out.retain(|n| {
        !n.windows(2).all(|w| w[0] == w[1])
            && !shape.windows(n.len()).any(|w| w == n.as_slice())
            && !String::from_utf8_lossy(n).contains("PRIVATE KEY")
            && !String::from_utf8_lossy(n).contains("-----")
    });
    out
}

const PLAYBOOK: &str = r#"
let count = parse_int(args.count);
for i in 0..count {
    let s = secret::from_env(`FUZZ_${i}`);
    let errors = [];
    let tries = [
        || iam::key_id(s),
        || iam::verify_key(s),
        || secrets::add_version("fuzz", s, #{}),
        || secrets::access("fuzz"),
        || github::put_secret("acme/api", `FUZZ_${i}`, s),
        || github::put_secrets("acme/api", #{ FUZZ_MANY: s }),
        || github::check_token(s),
        || github::revoke_token(s),
        || github::revoke_installation_token(s),
        || github::mint_installation_token(1, 1, s),
    ];
    for f in tries {
        try { let out = f.call(); print(out); debug(out); }
        catch (e) { errors.push(if type_of(e) == "map" { `${e.primitive}: ${e.message}` } else { `${e}` }); }
    }
    print(errors);
    state::set(`fuzz.errors.${i}`, errors);
}
"#;

#[test]
fn random_and_adversarial_secrets_reach_no_sink_through_any_primitive() {
    let project = Project::new();
    let emulator = EmulatorProcess::start(&project);
    let url = emulator.url();
    let values: Vec<Vec<u8>> = adversarial().into_iter().chain(random(16)).collect();
    let names: Vec<String> = (0..values.len()).map(|i| format!("\"FUZZ_{i}\"")).collect();
    project
        .config(&emulator.config(&format!(
            "[scope]\ngcp_projects = [\"demo-project\"]\ngithub_repos = [\"acme/api\"]\nenv = [{}]\n\n\
             [gcp]\nproject = \"demo-project\"\nsecret_manager_url = \"{url}\"\niam_url = \"{url}\"\n\
             credentials = \"anonymous\"\ntoken_uris = [\"{url}/token\"]\n\n\
             [limits]\nmax_retry_wait = \"1s\"\nretry_attempts = 2\n",
            names.join(", ")
        )))
        .playbook("fuzz.rhai", PLAYBOOK);
    let create = emulator.call(
        "POST",
        "/v1/projects/demo-project/secrets?secretId=fuzz",
        "{\"replication\":{\"automatic\":{}}}",
    );
    assert!(create.contains("fuzz"), "{create}");

    let mut command = project.command();
    command
        .args(["-vv", "--log-file", ".orchestra/fuzz.log", "play", "fuzz"])
        .args(["--arg", &format!("count={}", values.len())])
        .env("ORCHESTRA_TEST_GITHUB_TOKEN", DEMO_GITHUB_TOKEN);
    for (i, value) in values.iter().enumerate() {
        command.env(format!("FUZZ_{i}"), std::ffi::OsStr::from_bytes(value));
    }
    let run = Run::from(command.output().expect("run"));
    run.expect_code(0)
        .stdout_has("iam::key_id: the secret is not a service-account key file");

    let mut sinks: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), run.stdout.clone().into_bytes()),
        ("stderr".into(), run.stderr.clone().into_bytes()),
    ];
    for file in files_below(&project.path().join(".orchestra")) {
        let bytes = std::fs::read(&file).expect("read");
        sinks.push((file.display().to_string(), bytes));
    }
    let runs_show = project.run(&["runs", "show", "1"]);
    sinks.push(("runs show".into(), runs_show.stdout.into_bytes()));
    // Thousands of needles over megabytes of logs: one automaton, one pass per sink.
    let mut owners = Vec::new();
    let mut all = Vec::new();
    for (i, value) in values.iter().enumerate() {
        for needle in needles(value) {
            owners.push(i);
            all.push(needle);
        }
    }
    let matcher = aho_corasick::AhoCorasick::new(&all).expect("automaton");
    for (place, bytes) in &sinks {
        if let Some(hit) = matcher.find(bytes) {
            let i = owners[hit.pattern().as_usize()];
            panic!(
                "value {i} ({:?}) found in {place} as {:?}",
                String::from_utf8_lossy(&values[i]),
                String::from_utf8_lossy(&all[hit.pattern().as_usize()])
            );
        }
    }
}
