//! `memory::` and `orchestra memory` with `[memory] backend = "firestore"`, against the real
//! Firestore emulator process; documents are read back through the emulator's REST API.

use orchestra::firestore_emulator::FirestoreEmulator;

use crate::firestore::{PROJECT, emulator, rest};
use crate::harness::{Project, Run};

/// A project whose memory lives in `emulator`'s collection `orchestra_memory`.
fn project() -> Project {
    let project = Project::new();
    project.config(&format!(
        "[gcp]\nproject = \"{PROJECT}\"\n\n[memory]\nbackend = \"firestore\"\nretry_after = \"1ms\"\n\n[limits]\nretry_attempts = 1\n"
    ));
    project
}

fn run(project: &Project, emulator: &FirestoreEmulator, args: &[&str]) -> Run {
    let output = project
        .command()
        .env("FIRESTORE_EMULATOR_HOST", emulator.host())
        .args(args)
        .output()
        .expect("run orchestra");
    Run::from(output)
}

fn document(emulator: &FirestoreEmulator, id: &str) -> (u16, serde_json::Value) {
    let id = id.replace('%', "%25").replace('~', "%7E");
    rest(emulator, "GET", &format!("/orchestra_memory/{id}"), "")
}

#[test]
fn awkward_keys_round_trip_and_the_document_has_the_documented_shape() {
    let fs = emulator();
    let project = project();
    let long = format!("deep/{}", "k".repeat(195));
    for key in ["a/b/c", ".", "..", "__x__", "日本/語", long.as_str()] {
        run(
            &project,
            &fs,
            &["memory", "put", key, r#"{"n":[[1,2.5]],"s":"v"}"#],
        )
        .expect_code(0);
    }
    for key in ["a/b/c", ".", "..", "__x__", "日本/語", long.as_str()] {
        run(&project, &fs, &["memory", "get", key])
            .expect_code(0)
            .stdout_has(r#""s":"v""#);
    }
    let (status, doc) = document(&fs, "~a~b~c");
    assert_eq!(status, 200, "{doc}");
    let fields = &doc["fields"];
    assert_eq!(fields["key"]["stringValue"], "a/b/c");
    let value: serde_json::Value =
        serde_json::from_str(fields["value"]["stringValue"].as_str().expect("value text"))
            .expect("JSON");
    assert_eq!(value["n"][0][1], 2.5);
    assert!(fields["updated_at"]["timestampValue"].is_string(), "{doc}");
    assert!(fields.get("expires_at").is_none(), "{doc}");
    let listed = run(&project, &fs, &["memory", "list", "a/"]);
    listed.expect_code(0).stdout_has("a/b/c");
    assert_eq!(listed.stdout.lines().count(), 1, "{}", listed.stdout);
    run(&project, &fs, &["memory", "forget", "a/b/c"]).expect_code(0);
    assert_eq!(document(&fs, "~a~b~c").0, 404);
    run(&project, &fs, &["memory", "get", "a/b/c"]).expect_code(1);
    run(&project, &fs, &["memory", "status"])
        .expect_code(0)
        .stdout_has("backend  firestore")
        .stdout_has("outbox   0 write(s) waiting");
}

#[test]
fn a_playbook_stores_and_an_expired_entry_is_not_served_though_its_document_remains() {
    let fs = emulator();
    let project = project();
    project.playbook(
        "keep.rhai",
        r#"
memory::store("planner/context", #{ step: 3 }, #{ ttl: "1h" });
memory::store("planner/other", 7);
print(`step=${memory::retrieve("planner/context").step}`);
print(`listed=${memory::list("planner/").len()}`);
"#,
    );
    let at = |time: &str, args: &[&str]| {
        Run::from(
            project
                .command()
                .env("FIRESTORE_EMULATOR_HOST", fs.host())
                .env("ORCHESTRA_TEST_NOW", time)
                .args(args)
                .output()
                .expect("run orchestra"),
        )
    };
    at("2026-03-01T00:00:00Z", &["play", "keep"])
        .expect_code(0)
        .stdout_has("step=3")
        .stdout_has("listed=2");
    let (_, doc) = document(&fs, "~planner~context");
    assert!(
        doc["fields"]["expires_at"]["timestampValue"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-03-01T01:00:00")),
        "{doc}"
    );
    at(
        "2026-03-01T01:00:01Z",
        &["memory", "get", "planner/context"],
    )
    .expect_code(1);
    let listed = at("2026-03-01T01:00:01Z", &["memory", "list", "planner/"]);
    listed.expect_code(0).stdout_has("planner/other");
    assert!(
        !listed.stdout.contains("planner/context"),
        "{}",
        listed.stdout
    );
    assert_eq!(document(&fs, "~planner~context").0, 200);
}

#[test]
fn writes_while_firestore_is_down_wait_in_the_outbox_and_land_in_order() {
    let project = project();
    let first = emulator();
    run(&project, &first, &["memory", "put", "agent/x", "1"]).expect_code(0);
    let host = first.host();
    drop(first);
    let down = || {
        Run::from(
            project
                .command()
                .env("FIRESTORE_EMULATOR_HOST", &host)
                .args(["memory", "put", "agent/x", "2"])
                .output()
                .expect("run orchestra"),
        )
    };
    down().expect_code(0).stderr_has("waits in the outbox");
    let forget = Run::from(
        project
            .command()
            .env("FIRESTORE_EMULATOR_HOST", &host)
            .args(["memory", "forget", "agent/y"])
            .output()
            .expect("run orchestra"),
    );
    forget.expect_code(0);
    let status = Run::from(
        project
            .command()
            .env("FIRESTORE_EMULATOR_HOST", &host)
            .args(["memory", "status"])
            .output()
            .expect("run orchestra"),
    );
    status
        .expect_code(0)
        .stdout_has("outbox   2 write(s) waiting");
    // Reads are served from the local copy meanwhile.
    Run::from(
        project
            .command()
            .env("FIRESTORE_EMULATOR_HOST", &host)
            .args(["memory", "get", "agent/x"])
            .output()
            .expect("run orchestra"),
    )
    .expect_code(0)
    .stdout_has("2");
    // Firestore answers again (a new emulator): the next call flushes the outbox, in order.
    let second = emulator();
    run(&project, &second, &["memory", "put", "agent/z", "3"]).expect_code(0);
    let (status, doc) = document(&second, "~agent~x");
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["fields"]["value"]["stringValue"], "2");
    run(&project, &second, &["memory", "status"])
        .expect_code(0)
        .stdout_has("outbox   0 write(s) waiting");
}

#[test]
fn a_plan_leaves_the_emulator_unchanged() {
    let fs = emulator();
    let project = project();
    project.playbook("plan.rhai", r#"memory::store("plan/k", 1);"#);
    run(&project, &fs, &["play", "plan", "--plan"]).expect_code(0);
    assert_eq!(document(&fs, "~plan~k").0, 404);
}

#[test]
fn a_write_or_a_forget_replaces_what_the_cache_holds_for_that_key() {
    let fs = emulator();
    let project = project();
    project.playbook(
        "cache.rhai",
        r#"
memory::store("agent/plan", 1);
print(`first=${memory::retrieve("agent/plan")}`);
print(`again=${memory::retrieve("agent/plan")}`);
memory::store("agent/plan", 2);
print(`stored=${memory::retrieve("agent/plan")}`);
memory::forget("agent/plan");
print(`forgotten=${memory::retrieve("agent/plan") == ()}`);
memory::store("agent/plan", 3);
print(`back=${memory::retrieve("agent/plan")}`);
"#,
    );
    run(&project, &fs, &["play", "cache"])
        .expect_code(0)
        .stdout_has("first=1")
        .stdout_has("again=1")
        .stdout_has("stored=2")
        .stdout_has("forgotten=true")
        .stdout_has("back=3");
    let (status, doc) = document(&fs, "~agent~plan");
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["fields"]["value"]["stringValue"], "3");
}

#[test]
fn a_secret_offered_to_firestore_memory_reaches_no_document_and_no_output() {
    let fs = emulator();
    let project = project();
    let value = format!("fsmemcanary-{}", std::process::id());
    project
        .config(&format!(
            "[gcp]\nproject = \"{PROJECT}\"\n\n[memory]\nbackend = \"firestore\"\n\n[scope]\nenv = [\"MEMORY_SECRET\"]\n"
        ))
        .playbook(
            "leak.rhai",
            r#"let s = secret::from_env("MEMORY_SECRET");
               try { memory::store("agent/token", s); } catch (e) { print(`refused: ${e.message}`); }
               try { memory::store("agent/nested", #{ inner: [s] }); } catch (e) { print(`refused: ${e.message}`); }
               memory::store("agent/shown", `${s}`);
               print(memory::retrieve("agent/shown"));"#,
        );
    let output = project
        .command()
        .env("FIRESTORE_EMULATOR_HOST", fs.host())
        .env("MEMORY_SECRET", &value)
        .args(["-vv", "--log-file", ".orchestra/run.log", "play", "leak"])
        .output()
        .expect("run orchestra");
    let needles = vec![value];
    crate::leaks::assert_absent(&output.stdout, &needles, "stdout");
    crate::leaks::assert_absent(&output.stderr, &needles, "stderr");
    Run::from(output)
        .expect_code(0)
        .stdout_has("refused: refusing to store a Secret (at value)")
        .stdout_has("refused: refusing to store a Secret (at value.inner[0])")
        .stdout_has("Secret(fp:");
    for file in crate::leaks::files_below(&project.path().join(".orchestra")) {
        let bytes = std::fs::read(&file).expect("read");
        crate::leaks::assert_absent(&bytes, &needles, &file.display().to_string());
    }
    let (status, listing) = rest(&fs, "GET", "/orchestra_memory?pageSize=300", "");
    assert_eq!(status, 200, "{listing}");
    let documents = listing["documents"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = documents
        .iter()
        .filter_map(|d| d["fields"]["key"]["stringValue"].as_str())
        .collect();
    assert_eq!(names, ["agent/shown"], "{listing}");
    crate::leaks::assert_absent(
        listing.to_string().as_bytes(),
        &needles,
        "Firestore documents",
    );
}
