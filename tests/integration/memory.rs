//! `memory::` and `orchestra memory` on the local backend (the SQLite state database): every
//! primitive and command, the cache, TTL expiry, plans that leave no trace, and bad input.

use crate::harness::Project;
use crate::leaks::{assert_absent, files_below};

/// The rows of the `memory` table, read straight from the SQLite file: key, value, expiry.
pub fn memory_rows(project: &Project) -> Vec<(String, String, Option<i64>)> {
    let db = rusqlite::Connection::open(project.path().join(".orchestra/state.db")).expect("db");
    let mut stmt = db
        .prepare("SELECT key, value, expires_at FROM memory ORDER BY key")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// The journal of the last run: primitive and target of each step.
fn steps(project: &Project) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(project.path().join(".orchestra/state.db")).expect("db");
    let mut stmt = db
        .prepare(
            "SELECT primitive, target FROM steps WHERE run_id = (SELECT max(id) FROM runs) ORDER BY seq",
        )
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

const ROUND_TRIP: &str = r#"
memory::store("planner/context", #{ model: "gemini-2.5-flash", temperature: 0.2 }, #{ ttl: "5m" });
memory::store("planner/notes", ["a", 1, true]);
memory::store("other/x", 7);
let first = memory::retrieve("planner/context");
let second = memory::retrieve("planner/context");
print(`model ${first.model} ${second.temperature}`);
let listed = memory::list("planner/", #{ limit: 5 });
print(`listed ${listed.len()}: ${listed[0].key} ${listed[1].key} ttl=${listed[0].expires_at != ()} none=${listed[1].expires_at == ()}`);
print(`limited ${memory::list("", #{ limit: 1 }).len()}`);
print(`forgot ${memory::forget("planner/notes")} again ${memory::forget("planner/notes")}`);
print(`gone ${memory::retrieve("planner/notes") == ()}`);
let status = memory::status();
print(`status ${status.backend} ${status.health} outbox=${status.outbox}`);
"#;

#[test]
fn every_primitive_round_trips_on_the_local_backend_and_a_cache_hit_is_not_journaled() {
    let project = Project::new();
    project.playbook("mem.rhai", ROUND_TRIP);
    project
        .run(&["play", "mem"])
        .expect_code(0)
        .stdout_has("model gemini-2.5-flash 0.2")
        .stdout_has("listed 2: planner/context planner/notes ttl=true none=true")
        .stdout_has("limited 1")
        .stdout_has("forgot true again false")
        .stdout_has("gone true")
        .stdout_has("status local answering outbox=0");
    let rows = memory_rows(&project);
    let keys: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(keys, ["other/x", "planner/context"]);
    assert_eq!(
        rows[1].1,
        r#"{"model":"gemini-2.5-flash","temperature":0.2}"#
    );
    assert!(rows[1].2.is_some(), "the ttl became an expiry");
    let retrieves = steps(&project)
        .into_iter()
        .filter(|(p, t)| p == "memory::retrieve" && t == "memory planner/context")
        .count();
    assert_eq!(retrieves, 1, "the second retrieve was served by the cache");
}

#[test]
fn an_entry_past_its_ttl_is_not_served_though_its_row_is_still_there() {
    let project = Project::new();
    project
        .playbook(
            "put.rhai",
            r#"memory::store("agent/short", "soon gone", #{ ttl: "1h" }); memory::store("agent/long", "kept");"#,
        )
        .playbook(
            "get.rhai",
            r#"print(`short=${memory::retrieve("agent/short")} long=${memory::retrieve("agent/long")} n=${memory::list("agent/").len()}`);"#,
        );
    let at = |time: &str, playbook: &str| {
        let output = project
            .command()
            .args(["play", playbook])
            .env("ORCHESTRA_TEST_NOW", time)
            .output()
            .expect("run");
        crate::harness::Run::from(output)
    };
    at("2026-03-01T00:00:00Z", "put").expect_code(0);
    at("2026-03-01T00:59:00Z", "get")
        .expect_code(0)
        .stdout_has("short=soon gone long=kept n=2");
    at("2026-03-01T01:00:01Z", "get")
        .expect_code(0)
        .stdout_has("short= long=kept n=1");
    project
        .command()
        .args(["memory", "get", "agent/short"])
        .env("ORCHESTRA_TEST_NOW", "2026-03-01T01:00:01Z")
        .output()
        .map(crate::harness::Run::from)
        .expect("run")
        .expect_code(1)
        .stderr_has("no entry under agent/short");
    assert_eq!(memory_rows(&project).len(), 2, "expiry is a read filter");
}

#[test]
fn a_plan_lists_the_store_without_its_value_and_writes_nothing() {
    let project = Project::new();
    project.playbook(
        "plan.rhai",
        r#"memory::store("planner/context", #{ secretish: "value-not-shown" }, #{ ttl: "5m" });
           memory::forget("agent/old");
           print(`read ${memory::retrieve("planner/context")}`);"#,
    );
    let run = project.run(&["play", "plan", "--plan"]);
    run.expect_code(0)
        .stdout_has("would store planner/context")
        .stdout_has("ttl: 5m")
        .stdout_has("would forget agent/old");
    assert!(!run.stdout.contains("value-not-shown"), "{}", run.stdout);
    assert!(memory_rows(&project).is_empty());
}

#[test]
fn bad_keys_options_and_values_name_what_is_wrong_and_the_line() {
    let project = Project::new();
    for (name, script, expected) in [
        (
            "key",
            "let x = 1;\nmemory::store(\"agent notes\", 1);",
            "memory key \"agent notes\" is not valid: expected 1 to 200 characters",
        ),
        (
            "slash",
            "\nmemory::retrieve(\"agent//x\");",
            "an empty segment between '/'",
        ),
        (
            "option",
            "\nmemory::store(\"a\", 1, #{ tll: \"5m\" });",
            "memory::store: unknown option `tll`, expected ttl",
        ),
        (
            "ttl",
            "\nmemory::store(\"a\", 1, #{ ttl: \"soon\" });",
            "option ttl: expected a duration above zero such as \"5m\"",
        ),
        (
            "limit",
            "\nmemory::list(\"a\", #{ limit: 0 });",
            "option limit: expected an integer from 1 to 1000, found 0",
        ),
        (
            "prefix",
            "\nmemory::list(\"a b\");",
            "memory prefix \"a b\" is not valid",
        ),
    ] {
        project.playbook(&format!("{name}.rhai"), script);
        project
            .run(&["play", name])
            .expect_code(1)
            .stderr_has(expected)
            .stderr_has(&format!("playbooks/{name}.rhai:2:"));
    }
}

#[test]
fn a_bad_backend_name_names_the_field_and_the_choices() {
    let project = Project::new();
    project
        .config("[memory]\nbackend = \"redis\"\n")
        .run(&["memory", "status"])
        .expect_code(2)
        .stderr_has("memory.backend")
        .stderr_has("`local`, `mcp`, `firestore`");
    project
        .config("[memory]\nbackend = \"mcp\"\n[memory.mcp]\ncommand = []\n")
        .run(&["memory", "status"])
        .expect_code(2)
        .stderr_has("memory.mcp.command: expected a command and its arguments");
}

#[test]
fn the_cli_puts_gets_lists_forgets_and_reports() {
    let project = Project::new();
    project
        .run(&["memory", "put", "agent/notes", r#"{"x":1}"#, "--ttl", "1h"])
        .expect_code(0)
        .stderr_has("stored agent/notes");
    project
        .run(&["memory", "put", "agent/last_run", "42"])
        .expect_code(0);
    project
        .run(&["memory", "get", "agent/notes"])
        .expect_code(0)
        .stdout_has(r#"{"x":1}"#);
    let json = project.run(&["memory", "get", "agent/notes", "--json"]);
    json.expect_code(0);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(parsed["key"], "agent/notes");
    assert_eq!(parsed["value"]["x"], 1);
    assert!(
        parsed["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let listed = project.run(&["memory", "list", "agent/", "--limit", "1"]);
    listed.expect_code(0).stdout_has("agent/last_run");
    assert_eq!(listed.stdout.lines().count(), 1, "{}", listed.stdout);
    project
        .run(&["memory", "forget", "agent/last_run"])
        .expect_code(0)
        .stderr_has("forgot agent/last_run");
    project
        .run(&["memory", "get", "agent/last_run"])
        .expect_code(1);
    project
        .run(&["memory", "status"])
        .expect_code(0)
        .stdout_has("backend  local")
        .stdout_has("outbox   0 write(s) waiting")
        .stdout_has("of 1000 entries, ttl 5m");
    project
        .run(&["memory", "put", "agent/bad", "{x:1}"])
        .expect_code(2)
        .stderr_has("VALUE: expected JSON")
        .stderr_has("line 1 column 2");
    project
        .run(&["memory", "get", "bad key"])
        .expect_code(2)
        .stderr_has("memory key \"bad key\" is not valid");
    // A playbook reads what the CLI wrote.
    project
        .playbook(
            "read.rhai",
            r#"print(`x=${memory::retrieve("agent/notes").x}`);"#,
        )
        .run(&["play", "read"])
        .expect_code(0)
        .stdout_has("x=1");
}

#[test]
fn a_secret_offered_as_a_value_is_refused_and_never_shown() {
    let project = Project::new();
    let value = format!("memcanary-{}", std::process::id());
    project
        .config("[scope]\nenv = [\"MEMORY_SECRET\"]\n")
        .playbook(
            "leak.rhai",
            r#"let s = secret::from_env("MEMORY_SECRET");
               try { memory::store("agent/token", s); } catch (e) { print(`refused: ${e.message}`); }
               try { memory::store("agent/nested", #{ inner: [s] }); } catch (e) { print(`refused: ${e.message}`); }
               memory::store("agent/shown", `${s}`);
               print(memory::retrieve("agent/shown"));
               memory::store("agent/token", s);"#,
        );
    let output = project
        .command()
        .args(["-vv", "--log-file", ".orchestra/run.log", "play", "leak"])
        .env("MEMORY_SECRET", &value)
        .output()
        .expect("run");
    let run = crate::harness::Run::from(output.clone());
    run.expect_code(1)
        .stdout_has("refused: refusing to store a Secret (at value)")
        .stdout_has("refused: refusing to store a Secret (at value.inner[0])")
        .stdout_has("Secret(fp:")
        .stderr_has("playbooks/leak.rhai:6:");
    let needles = vec![value];
    assert_absent(&output.stdout, &needles, "stdout");
    assert_absent(&output.stderr, &needles, "stderr");
    for file in files_below(&project.path().join(".orchestra")) {
        let bytes = std::fs::read(&file).expect("read");
        assert_absent(&bytes, &needles, &file.display().to_string());
    }
    assert!(
        memory_rows(&project)
            .iter()
            .all(|(key, _, _)| key == "agent/shown")
    );
}

#[test]
fn the_bundled_memory_check_passes_on_the_local_backend() {
    let project = Project::new();
    project
        .playbook(
            "memory_check.rhai",
            include_str!("../../playbooks/memory_check.rhai"),
        )
        .run(&["play", "memory_check"])
        .expect_code(0)
        .stdout_has("memory check on backend local: answering")
        .stdout_has("round trip: ok")
        .stdout_has("writes: 3 stored, 3 listed, 0 left after forgetting");
    assert!(memory_rows(&project).is_empty(), "the check cleans up");
}
