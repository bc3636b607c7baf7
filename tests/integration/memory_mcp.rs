//! `memory::` on the mcp backend, against the real reference server
//! (`@modelcontextprotocol/server-memory`, installed by `scripts/install-mcp-memory`) started
//! by orchestra over stdio: every primitive, how entries land in the server's knowledge
//! graph, the server killed mid-run (writes queued, flushed in order by the next run), and
//! Node missing (the local copy serves and the run says so once).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::{Project, Run};

/// The installed server's entry point.
fn server_script() -> PathBuf {
    let dir = std::env::var_os("ORCHESTRA_MCP_MEMORY_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/orchestra-mcp-memory")
        },
        PathBuf::from,
    );
    let script = dir.join("node_modules/@modelcontextprotocol/server-memory/dist/index.js");
    assert!(
        script.is_file(),
        "{} is missing: run scripts/install-mcp-memory",
        script.display()
    );
    script
}

/// `[memory]` on the mcp backend started as `command`, keeping its graph in `graph`.
fn mcp_config(command: &[String], graph: &Path) -> String {
    let command: Vec<String> = command.iter().map(|c| format!("{c:?}")).collect();
    format!(
        "[memory]\nbackend = \"mcp\"\n[memory.mcp]\ncommand = [{}]\nenv = {{ MEMORY_FILE_PATH = {:?} }}\n",
        command.join(", "),
        graph.display().to_string()
    )
}

fn node_command() -> Vec<String> {
    vec!["node".into(), server_script().display().to_string()]
}

/// The entities in the server's graph file: name, type, observations.
fn graph_entities(graph: &Path) -> Vec<(String, String, Vec<String>)> {
    let text = std::fs::read_to_string(graph).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["type"] == "entity")
        .map(|v| {
            let observations = v["observations"]
                .as_array()
                .map(|o| {
                    o.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (
                v["name"].as_str().unwrap_or_default().to_owned(),
                v["entityType"].as_str().unwrap_or_default().to_owned(),
                observations,
            )
        })
        .collect()
}

fn value_in_graph(graph: &Path, key: &str) -> Option<serde_json::Value> {
    graph_entities(graph)
        .into_iter()
        .find(|(name, kind, _)| name == key && kind == "orchestra.memory")
        .and_then(|(_, _, observations)| observations.last().cloned())
        .and_then(|o| serde_json::from_str::<serde_json::Value>(&o).ok())
        .map(|o| o["value"].clone())
}

fn said_unreachable(run: &Run) -> usize {
    run.stderr
        .matches("memory backend mcp is unreachable")
        .count()
}

#[test]
fn every_primitive_goes_through_the_real_server_and_its_other_entities_are_left_alone() {
    let project = Project::new();
    let graph = project.path().join("graph.jsonl");
    std::fs::write(
        &graph,
        "{\"type\":\"entity\",\"name\":\"planner/person\",\"entityType\":\"person\",\"observations\":[\"likes tea\"]}\n",
    )
    .expect("seed graph");
    project.config(&mcp_config(&node_command(), &graph)).playbook(
        "mem.rhai",
        r#"memory::store("planner/context", #{ model: "gemini-2.5-flash", temperature: 0.2 }, #{ ttl: "5m" });
           memory::store("planner/notes", ["a", 1]);
           memory::store("planner/notes", ["b", 2]);
           let got = memory::retrieve("planner/context");
           print(`model ${got.model}`);
           let listed = memory::list("planner/");
           print(`listed ${listed.len()}: ${listed[0].key} ${listed[1].key} ${listed[1].value}`);
           print(`forgot ${memory::forget("planner/context")}`);
           print(`gone ${memory::retrieve("planner/context") == ()}`);
           let s = memory::status();
           print(`status ${s.backend} ${s.health} outbox=${s.outbox}`);"#,
    );
    let run = project.run(&["play", "mem"]);
    run.expect_code(0)
        .stdout_has("model gemini-2.5-flash")
        .stdout_has("listed 2: planner/context planner/notes [\"b\", 2]")
        .stdout_has("forgot true")
        .stdout_has("gone true")
        .stdout_has("status mcp answering outbox=0");
    let entities = graph_entities(&graph);
    let names: Vec<&str> = entities.iter().map(|e| e.0.as_str()).collect();
    assert!(names.contains(&"planner/person"), "{entities:?}");
    assert!(!names.contains(&"planner/context"), "{entities:?}");
    assert_eq!(
        value_in_graph(&graph, "planner/notes"),
        Some(serde_json::json!(["b", 2]))
    );
    // The CLI, in another process (another server), reads what the playbook left.
    project
        .run(&["memory", "get", "planner/notes"])
        .expect_code(0)
        .stdout_has("[\"b\",2]");
    project
        .run(&["memory", "list", "planner/"])
        .expect_code(0)
        .stdout_has("planner/notes");
}

/// Polls `check` until it holds or 60 s pass.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_server_killed_mid_run_loses_no_write_and_the_next_run_flushes_them_in_order() {
    let project = Project::new();
    let graph = project.path().join("graph.jsonl");
    let pid_file = project.path().join("server.pid");
    let script = server_script();
    let wrapper = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        format!("echo $$ > {:?}; exec node {:?}", pid_file, script),
    ];
    project.config(&mcp_config(&wrapper, &graph)).playbook(
        "fill.rhai",
        r#"let i = 0;
           while memory::status().healthy && i < 5000 {
               memory::store(`seq/${i}`, i);
               i += 1;
           }
           print(`stored ${i}`);
           memory::store("seq/last", "first");
           memory::store("seq/last", "second");
           memory::forget("seq/0");
           print(`read seq/1 = ${memory::retrieve("seq/1")}`);
           print(`last = ${memory::retrieve("seq/last")}`);
           let s = memory::status();
           print(`health ${s.health} outbox=${s.outbox}`);"#,
    );
    // Kill the server once it holds a few entries, while the playbook keeps storing.
    let killer = {
        let graph = graph.clone();
        let pid_file = pid_file.clone();
        std::thread::spawn(move || {
            eventually("three entries in the graph", || {
                graph_entities(&graph).len() >= 3
            });
            let pid: i32 = std::fs::read_to_string(&pid_file)
                .expect("pid file")
                .trim()
                .parse()
                .expect("pid");
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            )
            .expect("kill the server");
        })
    };
    let run = project.run(&["play", "fill"]);
    killer.join().expect("killer thread");
    run.expect_code(0)
        .stdout_has("read seq/1 = 1")
        .stdout_has("last = second")
        .stdout_has("health unreachable outbox=4");
    assert_eq!(said_unreachable(&run), 1, "said once:\n{}", run.stderr);
    let stored: usize = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("stored "))
        .and_then(|n| n.trim().parse().ok())
        .expect("stored count");
    assert!(stored < 5000, "the server was killed before the loop ended");
    assert!(value_in_graph(&graph, "seq/last").is_none());

    // The next run (a new server) takes the four queued writes first, in order.
    project.playbook(
        "read.rhai",
        r#"print(`last = ${memory::retrieve("seq/last")} zero = ${memory::retrieve("seq/0")}`);
           print(`outbox=${memory::status().outbox}`);"#,
    );
    let next = project.run(&["play", "read"]);
    next.expect_code(0)
        .stdout_has("last = second zero = ")
        .stdout_has("outbox=0")
        .stderr_has("took the 4 queued write(s), in order");
    assert_eq!(said_unreachable(&next), 0, "{}", next.stderr);
    assert_eq!(value_in_graph(&graph, "seq/last"), Some("second".into()));
    assert!(
        value_in_graph(&graph, "seq/0").is_none(),
        "the forget came after the store"
    );
    for i in 1..stored {
        assert_eq!(
            value_in_graph(&graph, &format!("seq/{i}")),
            Some(i.into()),
            "seq/{i}"
        );
    }
}

#[test]
fn without_node_the_local_copy_serves_the_run_says_so_once_and_a_later_run_flushes() {
    let project = Project::new();
    let graph = project.path().join("graph.jsonl");
    let missing = vec![
        "orchestra-test-no-such-node".to_owned(),
        server_script().display().to_string(),
    ];
    project.config(&mcp_config(&missing, &graph)).playbook(
        "offline.rhai",
        r#"memory::store("agent/a", #{ n: 1 });
           memory::store("agent/b", 2, #{ ttl: "1h" });
           print(`a = ${memory::retrieve("agent/a").n} listed = ${memory::list("agent/").len()}`);
           let s = memory::status();
           print(`health ${s.health} outbox=${s.outbox} reason: ${s.reason}`);"#,
    );
    let run = project.run(&["play", "offline"]);
    run.expect_code(0)
        .stdout_has("a = 1 listed = 2")
        .stdout_has("health unreachable outbox=2")
        .stdout_has("`orchestra-test-no-such-node` is not installed or not on PATH");
    assert_eq!(said_unreachable(&run), 1, "said once:\n{}", run.stderr);
    let status = project.run(&["memory", "status"]);
    status
        .expect_code(0)
        .stdout_has("backend  mcp")
        .stdout_has("outbox   2 write(s) waiting");

    // Node is back: the next command flushes the outbox before it reads.
    project.config(&mcp_config(&node_command(), &graph));
    project
        .run(&["memory", "get", "agent/b"])
        .expect_code(0)
        .stdout_has("2");
    assert_eq!(
        value_in_graph(&graph, "agent/a"),
        Some(serde_json::json!({ "n": 1 }))
    );
    project
        .run(&["memory", "status"])
        .expect_code(0)
        .stdout_has("outbox   0 write(s) waiting");
}

#[test]
fn the_bundled_memory_check_passes_on_the_mcp_backend() {
    let project = Project::new();
    let graph = project.path().join("graph.jsonl");
    project
        .config(&mcp_config(&node_command(), &graph))
        .playbook(
            "memory_check.rhai",
            include_str!("../../playbooks/memory_check.rhai"),
        )
        .run(&["play", "memory_check"])
        .expect_code(0)
        .stdout_has("memory check on backend mcp: answering")
        .stdout_has("round trip: ok")
        .stdout_has("writes: 3 stored, 3 listed, 0 left after forgetting");
    assert!(graph_entities(&graph).is_empty(), "the check cleans up");
}

#[test]
fn with_no_node_on_path_the_local_copy_serves() {
    let project = Project::new();
    let graph = project.path().join("graph.jsonl");
    project
        .config(&mcp_config(&node_command(), &graph))
        .playbook(
            "mem.rhai",
            r#"memory::store("agent/notes", #{ x: 1 });
               print(`x=${memory::retrieve("agent/notes").x} health=${memory::status().health}`);"#,
        );
    let output = project
        .command()
        .args(["play", "mem"])
        .env("PATH", "/nonexistent")
        .output()
        .expect("run");
    let run = Run::from(output);
    run.expect_code(0)
        .stdout_has("x=1 health=unreachable")
        .stderr_has("`node` is not installed or not on PATH");
    assert_eq!(said_unreachable(&run), 1, "{}", run.stderr);
}

#[test]
fn a_server_that_never_answers_the_handshake_is_given_up_on_in_time() {
    let project = Project::new();
    let graph = project.path().join("graph.jsonl");
    let silent = vec!["sleep".to_owned(), "30".to_owned()];
    let config = mcp_config(&silent, &graph) + "handshake_timeout = \"1s\"\n";
    project
        .config(&config)
        .playbook(
            "mem.rhai",
            r#"memory::store("a", 1); print(`a=${memory::retrieve("a")}`);"#,
        )
        .run(&["play", "mem"])
        .expect_code(0)
        .stdout_has("a=1")
        .stderr_has("did not finish its handshake within 1s");
}

#[test]
fn a_secret_offered_as_a_value_never_reaches_the_server_or_the_outbox() {
    let project = Project::new();
    let graph = project.path().join("graph.jsonl");
    let value = format!("mcpcanary-{}-{}", std::process::id(), line!());
    let config = mcp_config(&node_command(), &graph) + "\n[scope]\nenv = [\"MEMORY_SECRET\"]\n";
    project.config(&config).playbook(
        "leak.rhai",
        r#"let s = secret::from_env("MEMORY_SECRET");
           memory::store("agent/ok", 1);
           try { memory::store("agent/token", #{ token: s }); } catch (e) { print(`refused: ${e.message}`); }
           memory::store("agent/token", s);"#,
    );
    let output = project
        .command()
        .args(["-vv", "play", "leak"])
        .env("MEMORY_SECRET", &value)
        .output()
        .expect("run");
    let run = Run::from(output.clone());
    run.expect_code(1)
        .stdout_has("refused: refusing to store a Secret (at value.token)")
        .stderr_has("playbooks/leak.rhai:4:");
    let needles = vec![value];
    crate::leaks::assert_absent(&output.stdout, &needles, "stdout");
    crate::leaks::assert_absent(&output.stderr, &needles, "stderr");
    let graph_bytes = std::fs::read(&graph).expect("graph file");
    crate::leaks::assert_absent(&graph_bytes, &needles, "the server's graph");
    for file in crate::leaks::files_below(&project.path().join(".orchestra")) {
        let bytes = std::fs::read(&file).expect("read");
        crate::leaks::assert_absent(&bytes, &needles, &file.display().to_string());
    }
    let names: Vec<String> = graph_entities(&graph).into_iter().map(|e| e.0).collect();
    assert_eq!(names, ["agent/ok"]);
}
