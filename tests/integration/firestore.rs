//! `firestore::` against the real Firestore emulator process (one per test, random port,
//! stopped with its process group on drop); what orchestra wrote is read back through the
//! emulator's own REST API, not through orchestra.

use std::io::{Read, Write};

use orchestra::firestore_emulator::FirestoreEmulator;

use crate::harness::Project;

pub(crate) const PROJECT: &str = "fs-test";

/// A project whose playbooks reach `emulator`'s database `fs-test/(default)`.
pub(crate) fn project(emulator: &FirestoreEmulator) -> Project {
    let project = Project::new();
    project.config(&format!(
        "[gcp]\nproject = \"{PROJECT}\"\n\n[scope]\nfirestore_databases = [\"{PROJECT}\"]\nenv = [\"FS_TEST_SECRET\"]\n# emulator {}\n",
        emulator.host()
    ));
    project
}

pub(crate) fn play(
    project: &Project,
    emulator: &FirestoreEmulator,
    args: &[&str],
) -> crate::harness::Run {
    let output = project
        .command()
        .env("FIRESTORE_EMULATOR_HOST", emulator.host())
        .env("FS_TEST_SECRET", "fs-canary-6b1f0c2e9d")
        .args(args)
        .output()
        .expect("run orchestra");
    crate::harness::Run::from(output)
}

/// One REST call to the emulator; the status code and the JSON body.
pub(crate) fn rest(
    emulator: &FirestoreEmulator,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    rest_in(emulator, PROJECT, method, path, body)
}

/// As [`rest`], for the documents of `project`.
pub(crate) fn rest_in(
    emulator: &FirestoreEmulator,
    project: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut stream = std::net::TcpStream::connect(emulator.host()).expect("connect");
    write!(
        stream,
        "{method} /v1/projects/{project}/databases/(default)/documents{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer owner\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        emulator.host(),
        body.len()
    )
    .expect("write");
    // The emulator keeps the connection open: read until the body is complete.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let mut raw = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let n = stream.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&raw);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            });
            let done = match length {
                Some(len) => body.len() >= len,
                None => body.ends_with("0\r\n\r\n"),
            };
            if done {
                break;
            }
        }
    }
    let answer = String::from_utf8_lossy(&raw).into_owned();
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // The emulator answers with chunked encoding: the JSON is between the chunk sizes.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str(&body[a..=b]).unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    };
    (status, json)
}

pub(crate) fn emulator() -> FirestoreEmulator {
    FirestoreEmulator::start().expect("the Firestore emulator starts (scripts/test installs it)")
}

#[test]
fn every_primitive_round_trips_through_the_emulator() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "crud.rhai",
        r#"
firestore::set("agents/planner", #{ model: "gemini-2.5-flash", temperature: 0.2, runs: 3 });
firestore::set("agents/planner", #{ extra: #{ a: 1 } }, #{ merge: true });
firestore::update("agents/planner", #{ "extra.b": 2, runs: 4 });
let doc = firestore::get("agents/planner");
print(`got ${doc.model} ${doc.temperature} ${doc.runs} ${doc.extra.a} ${doc.extra.b}`);
print(`missing is ${type_of(firestore::get("agents/nobody"))}`);
for i in 0..5 { firestore::set(`runs/r${i}`, #{ finished: i, status: if i % 2 == 0 { "failed" } else { "ok" } }); }
let page = firestore::query("runs", #{ where: [["status", "==", "failed"]], order_by: "-finished", limit: 2 });
print(`page1 ${page.map(|d| d.id)}`);
let rest = firestore::query("runs", #{ where: [["status", "==", "failed"]], order_by: "-finished", start_after: page[-1] });
print(`page2 ${rest.map(|d| d.id)}`);
let n = firestore::transaction(|| { let d = firestore::get("agents/planner"); firestore::update("agents/planner", #{ runs: d.runs + 1 }); d.runs + 1 });
print(`txn ${n}`);
firestore::delete("runs/r0");
"#,
    );
    play(&project, &fs, &["play", "crud"])
        .expect_code(0)
        .stdout_has("got gemini-2.5-flash 0.2 4 1 2")
        .stdout_has("missing is ()")
        .stdout_has(r#"page1 ["r4", "r2"]"#)
        .stdout_has(r#"page2 ["r0"]"#)
        .stdout_has("txn 5");
    let (status, doc) = rest(&fs, "GET", "/agents/planner", "");
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["fields"]["runs"]["integerValue"], "5");
    assert_eq!(
        doc["fields"]["extra"]["mapValue"]["fields"]["b"]["integerValue"],
        "2"
    );
    assert_eq!(rest(&fs, "GET", "/runs/r0", "").0, 404);
}

#[test]
fn every_value_type_converts_both_ways() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "types.rhai",
        r#"
let blob = blob(3, 7);
firestore::set("types/out", #{ n: 42, x: 1.5, whole: 2.0, s: "é", b: true, none: (), at: firestore::timestamp("2026-03-01T12:00:00.123456Z"), bytes: blob, list: [1, "two", #{ three: 3 }], map: #{ deep: #{ deeper: [true] } } });
let d = firestore::get("types/in");
print(`in: ${type_of(d.n)} ${type_of(d.x)} ${type_of(d.at)} ${d.at} ${type_of(d.bytes)} ${d.bytes.len()} ${type_of(d.none)} ${type_of(d.list)} ${type_of(d.map)} ${d.map.k}`);
"#,
    );
    let (status, _) = rest(
        &fs,
        "PATCH",
        "/types/in",
        r#"{"fields":{"n":{"integerValue":"7"},"x":{"doubleValue":2.5},"at":{"timestampValue":"2026-01-02T03:04:05Z"},"bytes":{"bytesValue":"AAEC"},"none":{"nullValue":null},"list":{"arrayValue":{"values":[{"stringValue":"a"}]}},"map":{"mapValue":{"fields":{"k":{"stringValue":"v"}}}}}}"#,
    );
    assert_eq!(status, 200);
    play(&project, &fs, &["play", "types"])
        .expect_code(0)
        .stdout_has("in: i64 f64 Timestamp 2026-01-02T03:04:05Z blob 3 () array map v");
    let (_, doc) = rest(&fs, "GET", "/types/out", "");
    let f = &doc["fields"];
    assert_eq!(f["n"]["integerValue"], "42");
    assert_eq!(f["x"]["doubleValue"], 1.5);
    assert_eq!(
        f["whole"]["doubleValue"], 2.0,
        "a float stays a double: {f}"
    );
    assert_eq!(f["s"]["stringValue"], "é");
    assert_eq!(f["b"]["booleanValue"], true);
    assert!(f["none"].get("nullValue").is_some(), "{f}");
    assert_eq!(f["at"]["timestampValue"], "2026-03-01T12:00:00.123456Z");
    assert_eq!(f["bytes"]["bytesValue"], "BwcH");
    assert_eq!(
        f["list"]["arrayValue"]["values"][2]["mapValue"]["fields"]["three"]["integerValue"],
        "3"
    );
    assert_eq!(
        f["map"]["mapValue"]["fields"]["deep"]["mapValue"]["fields"]["deeper"]["arrayValue"]["values"]
            [0]["booleanValue"],
        true
    );
}

#[test]
fn a_batch_of_1200_writes_takes_three_commits_inside_the_limits() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "batch.rhai",
        r#"
let writes = [];
for i in 0..1200 { writes.push(#{ set: `bulk/d${i}`, data: #{ i: i } }); }
let outcome = firestore::batch(writes);
print(`writes ${outcome.writes} commits ${outcome.commits}`);
"#,
    );
    play(&project, &fs, &["play", "batch"])
        .expect_code(0)
        .stdout_has("writes 1200 commits [500, 500, 200]");
    // Documents written by one commit share its commit time: count them per update time.
    let mut per_commit = std::collections::BTreeMap::<String, usize>::new();
    let mut token = String::new();
    loop {
        let (status, page) = rest(
            &fs,
            "GET",
            &format!("/bulk?pageSize=300&pageToken={token}"),
            "",
        );
        assert_eq!(status, 200);
        for doc in page["documents"].as_array().cloned().unwrap_or_default() {
            *per_commit
                .entry(doc["updateTime"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        match page["nextPageToken"].as_str() {
            Some(next) if !next.is_empty() => token = next.to_owned(),
            _ => break,
        }
    }
    let mut sizes: Vec<usize> = per_commit.values().copied().collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![200, 500, 500], "documents per commit time");
}

#[test]
fn a_plan_leaves_the_emulator_unchanged_and_names_fields_not_values() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "plan.rhai",
        r#"
firestore::set("agents/planner", #{ model: "gemini-secret-model-name", temperature: 0.2 });
firestore::batch([#{ set: "runs/1", data: #{ status: "failed" } }, #{ delete: "runs/0" }]);
print(`read ${type_of(firestore::get("agents/planner"))}`);
"#,
    );
    let run = play(&project, &fs, &["play", "plan", "--plan"]);
    run.expect_code(0)
        .stdout_has("would set agents/planner: model, temperature")
        .stdout_has("read ()");
    assert!(
        !run.stdout.contains("gemini-secret-model-name"),
        "{}",
        run.stdout
    );
    assert_eq!(rest(&fs, "GET", "/agents/planner", "").0, 404);
    assert_eq!(rest(&fs, "GET", "/runs/1", "").0, 404);
}

#[test]
fn an_odd_path_names_the_path_and_the_line() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "odd.rhai",
        "let x = 1;\nfirestore::set(\"agents/planner/notes\", #{ a: 1 });\n",
    );
    play(&project, &fs, &["play", "odd"])
        .expect_code(1)
        .stderr_has("odd.rhai:2")
        .stderr_has("'agents/planner/notes' has 3 segment(s)");
}

#[test]
fn a_value_without_a_firestore_form_names_the_field() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "bad.rhai",
        "\n\nfirestore::set(\"a/b\", #{ outer: #{ f: || 1 } });\n",
    );
    play(&project, &fs, &["play", "bad"])
        .expect_code(1)
        .stderr_has("bad.rhai:3")
        .stderr_has("field `outer.f`");
}

#[test]
fn a_query_the_emulator_refuses_names_the_line_and_the_remote_message() {
    let fs = emulator();
    let project = project(&fs);
    let values: Vec<String> = (0..31).map(|i| i.to_string()).collect();
    project.playbook(
        "refused.rhai",
        &format!(
            "\nfirestore::query(\"runs\", #{{ where: [[\"n\", \"in\", [{}]]] }});\n",
            values.join(", ")
        ),
    );
    let run = play(&project, &fs, &["play", "refused"]);
    run.expect_code(1)
        .stderr_has("refused.rhai:2")
        .stderr_has("Firestore answered INVALID_ARGUMENT");
}

#[test]
fn a_secret_is_refused_as_a_document_value_and_never_leaks() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "secret.rhai",
        r#"
let s = secret::from_env("FS_TEST_SECRET");
try { firestore::set("leak/a", #{ token: s }); } catch (e) { print(e.message); }
try { firestore::batch([#{ set: "leak/b", data: #{ nested: [s] } }]); } catch (e) { print(e.message); }
firestore::set("leak/c", #{ ok: 1 });
"#,
    );
    let run = play(&project, &fs, &["play", "secret"]);
    run.expect_code(0)
        .stdout_has("refusing to store a Secret in a Firestore document (field `token`)")
        .stdout_has("field `batch[0].data.nested[0]`");
    let needles = vec!["fs-canary-6b1f0c2e9d".to_owned()];
    crate::leaks::assert_absent(run.stdout.as_bytes(), &needles, "stdout");
    crate::leaks::assert_absent(run.stderr.as_bytes(), &needles, "stderr");
    for file in crate::leaks::files_below(project.path()) {
        crate::leaks::assert_absent(
            &std::fs::read(&file).expect("read"),
            &needles,
            &file.display().to_string(),
        );
    }
    assert_eq!(rest(&fs, "GET", "/leak/a", "").0, 404);
    assert_eq!(rest(&fs, "GET", "/leak/b", "").0, 404);
    let (_, all) = rest(&fs, "GET", "/leak", "");
    crate::leaks::assert_absent(all.to_string().as_bytes(), &needles, "Firestore documents");
}

#[test]
fn concurrent_transactions_lose_no_increment() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "count.rhai",
        r#"
for i in 0..15 {
    firestore::transaction(|| {
        let d = firestore::get("counters/c");
        let n = if d == () { 0 } else { d.n };
        firestore::set("counters/c", #{ n: n + 1 });
    });
}
"#,
    );
    let a = project
        .command()
        .env("FIRESTORE_EMULATOR_HOST", fs.host())
        .args(["--state-db", "a.db", "play", "count"])
        .spawn()
        .expect("a");
    let b = project
        .command()
        .env("FIRESTORE_EMULATOR_HOST", fs.host())
        .args(["--state-db", "b.db", "play", "count"])
        .spawn()
        .expect("b");
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (_, doc) = rest(&fs, "GET", "/counters/c", "");
    assert_eq!(doc["fields"]["n"]["integerValue"], "30", "{doc}");
}

#[test]
fn emulate_starts_the_firestore_emulator_only_when_the_playbook_needs_it() {
    let project = Project::new();
    project
        .config("[scope]\nfirestore_databases = [\"demo-project\"]\n")
        .playbook(
            "fs.rhai",
            "firestore::set(\"a/b\", #{ n: 1 });\nprint(`n=${firestore::get(\"a/b\").n}`);\n",
        )
        .playbook("plain.rhai", "print(\"no firestore here\");\n");
    project
        .run(&["play", "fs", "--emulate"])
        .expect_code(0)
        .stdout_has("n=1")
        .stderr_has("emulate: Firestore is the installed Firestore emulator at 127.0.0.1:")
        .stderr_has("emulate: stopped the Firestore emulator");
    let plain = project.run(&["play", "plain", "--emulate"]);
    plain.expect_code(0);
    assert!(
        !plain.stderr.contains("Firestore emulator"),
        "{}",
        plain.stderr
    );
}
