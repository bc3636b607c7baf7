//! Hostile playbooks, one per class of hole a held-out attack suite found: secret text in
//! parse errors, the mask as an equality oracle, import cycles, per-module operation counts,
//! compilation past the time-out, out-of-range numbers, and `to_json` of a Secret.

use crate::harness::{Project, Run};
use crate::leaks::{assert_absent, files_below};

/// Runs `playbook` with `env`, logging to `.orchestra/run.log`.
fn play(project: &Project, playbook: &str, env: &[(&str, &str)]) -> Run {
    let mut command = project.command();
    command.args(["-vv", "--log-file", ".orchestra/run.log", "play", playbook]);
    for (name, value) in env {
        command.env(name, value);
    }
    Run::from(command.output().expect("run orchestra"))
}

/// Asserts none of `needles` is in the run's output or any file it left under `.orchestra/`.
fn assert_nowhere(project: &Project, run: &Run, needles: &[String]) {
    assert_absent(run.stdout.as_bytes(), needles, "stdout");
    assert_absent(run.stderr.as_bytes(), needles, "stderr");
    for file in files_below(&project.path().join(".orchestra")) {
        let bytes = std::fs::read(&file).expect("read");
        assert_absent(&bytes, needles, &file.display().to_string());
    }
}

const PARSE_SECRET: &str = r#"
let s = secret::from_env("PIN");
try { print(iam::key_id(s)); } catch (e) { print(e.message); state::set("key_id.error", e.message); }
print(iam::verify_key(s));
"#;

#[test]
fn parsing_a_secret_as_a_key_file_quotes_none_of_it() {
    // Short values are never masked, so only an error that never quotes them keeps them in.
    let cases = [
        ("Zq7x", "Zq7x"),
        ("Zq7x\n", "Zq7x"),
        ("\"Zq7x\"\n", "Zq7x"),
        ("73197319731973197319731973197319e999", "7319731973"),
        ("{\"private_key_id\": 7319, \"type\": \"Zq7x\"}", "Zq7x"),
        (
            "{\"type\": \"service_account\", \"private_key_id\": \"Zq7x\"}",
            "Zq7x",
        ),
        ("[\"Zq7x\", 7319731973]", "7319731973"),
    ];
    for (value, needle) in cases {
        let project = Project::new();
        project
            .config("[scope]\nenv = [\"PIN\"]\n")
            .playbook("parse.rhai", PARSE_SECRET);
        let run = play(&project, "parse", &[("PIN", value)]);
        run.expect_code(0)
            .stdout_has("the secret is not a service-account key file")
            .stdout_has("refused");
        assert_nowhere(&project, &run, &[needle.to_owned()]);
    }
}

const ORACLE: &str = r#"
let s = secret::from_env("TARGET");
let guesses = "";
for n in 493810..493820 { guesses += `hunter2-${n} `; }
try {
    iam::list_keys(guesses);
    print("no error");
} catch (e) {
    if e.message.contains("Secret(fp:") { print("ORACLE OPEN: the error was masked"); }
    else if e.message.contains("hunter2-493816 hunter2-493817 hunter2-493818") { print("error echoes the script's own text unchanged"); }
    else { print("error does not echo the input"); }
}
let before = state::get("guesses", ());
if before != () {
    if before == guesses { print("state reads back what was written"); }
    else { print("ORACLE OPEN: state came back changed"); }
}
state::set("guesses", guesses);
"#;

#[test]
fn nothing_the_script_reads_back_is_masked_and_the_database_holds_no_guess() {
    let project = Project::new();
    project
        .config("[scope]\nenv = [\"TARGET\"]\ngcp_projects = [\"demo-project\"]\n")
        .playbook("oracle.rhai", ORACLE);
    let env = [("TARGET", "hunter2-493817")];
    let first = play(&project, "oracle", &env);
    first.expect_code(0);
    assert!(!first.stdout.contains("ORACLE OPEN"), "{}", first.stdout);
    // The second run reads back what the first stored, with the secret registered again.
    let second = play(&project, "oracle", &env);
    second
        .expect_code(0)
        .stdout_has("state reads back what was written");
    assert!(!second.stdout.contains("ORACLE OPEN"), "{}", second.stdout);
    // The stored guesses include the value: the state table holds them sealed, names too.
    let db = rusqlite::Connection::open(project.path().join(".orchestra/state.db")).expect("db");
    let rows: Vec<(String, String)> = db
        .prepare("SELECT key, value FROM state")
        .expect("query")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("rows")
        .map(|row| row.expect("row"))
        .collect();
    assert_eq!(rows.len(), 1);
    for (key, value) in rows {
        assert!(
            !key.contains("guesses") && !value.contains("hunter2"),
            "{key} {value}"
        );
    }
    // The journal keeps the script's own text, masked like every sink: the value is nowhere.
    assert_nowhere(&project, &second, &["hunter2-493817".to_owned()]);
}

#[test]
fn a_module_that_imports_itself_is_a_compile_error_naming_the_cycle() {
    let project = Project::new();
    project
        .playbook("main.rhai", "import \"loop\" as l;\nprint(1);\n")
        .playbook("loop.rhai", "import \"loop\" as again;\nfn f() { 1 }\n");
    play(&project, "main", &[])
        .expect_code(2)
        .stderr_has("import cycle: playbooks/loop.rhai → playbooks/loop.rhai");
    let check = Run::from(
        project
            .command()
            .args(["check", "playbooks/main.rhai"])
            .output()
            .expect("check"),
    );
    check.expect_code(2).stderr_has("import cycle");
}

#[test]
fn a_cycle_through_several_modules_and_back_to_the_playbook_is_named_whole() {
    let project = Project::new();
    project
        .playbook("main.rhai", "import \"a\" as a;\nprint(1);\n")
        .playbook("a.rhai", "import \"b\" as b;\n")
        .playbook("b.rhai", "import \"main\" as m;\n");
    play(&project, "main", &[]).expect_code(2).stderr_has(
        "import cycle: playbooks/main.rhai → playbooks/a.rhai → playbooks/b.rhai → playbooks/main.rhai",
    );
}

const BUSY_MODULE: &str = "let n = 0;\nfor i in 0..700 { n += i; }\nfn total() { 1 }\n";

#[test]
fn the_operation_limit_covers_the_modules_a_playbook_imports() {
    let project = Project::new();
    project
        .config("[limits]\nmax_operations = 5000\n")
        .playbook("one.rhai", "import \"m1\" as a;\nprint(\"done\");\n")
        .playbook(
            "three.rhai",
            "import \"m1\" as a;\nimport \"m2\" as b;\nimport \"m3\" as c;\nprint(\"done\");\n",
        );
    for name in ["m1", "m2", "m3"] {
        project.playbook(&format!("{name}.rhai"), BUSY_MODULE);
    }
    // One module's work fits the limit; three modules' work together does not.
    play(&project, "one", &[]).expect_code(0).stdout_has("done");
    let split = play(&project, "three", &[]);
    split.expect_code(1).stderr_has("max_operations");
    assert!(!split.stdout.contains("done"), "{}", split.stdout);
}

#[test]
fn a_module_over_the_source_limit_is_refused_unread() {
    let project = Project::new();
    let big = format!("let x = 1;\n{}", "// padding\n".repeat(100_000));
    project
        .playbook("main.rhai", "import \"big\" as b;\nprint(\"ran\");\n")
        .playbook("big.rhai", &big);
    let run = play(&project, "main", &[]);
    run.expect_code(2)
        .stderr_has("over the 1048576-byte limit for a playbook or module");
    assert!(!run.stdout.contains("ran"));
}

#[test]
fn the_time_out_stops_a_run_while_its_modules_compile() {
    let project = Project::new();
    // Twenty modules just under the size limit: compiling all of them takes far longer than
    // the time-out, so the run must stop part-way with the time-out named.
    let module = format!(
        "fn f() {{ 1 }}\n{}",
        "let a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];\n".repeat(20_000)
    );
    let mut main = String::new();
    for i in 0..20 {
        project.playbook(&format!("m{i}.rhai"), &module);
        main.push_str(&format!("import \"m{i}\" as m{i};\n"));
    }
    main.push_str("print(\"ran\");\n");
    project
        .config("[limits]\ntimeout = \"1s\"\n")
        .playbook("main.rhai", &main);
    let run = play(&project, "main", &[]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    run.stderr_has("passed its time-out of 1s");
    assert!(!run.stdout.contains("ran"));
}

#[test]
fn out_of_range_numbers_are_refused_by_name_never_a_panic() {
    for (call, expected) in [
        (
            "sleep(1e30);",
            "sleep's argument must be a number of seconds from 0 to 86400, found 1e30",
        ),
        (
            "sleep(-5);",
            "sleep's argument must be a number of seconds from 0 to 86400, found -5",
        ),
        (
            "breaker::guard(\"b\", #{ recovery: 1e300 }, || 1);",
            "recovery must be a number of seconds from 0 to 86400",
        ),
    ] {
        let project = Project::new();
        project.playbook("n.rhai", call);
        let run = play(&project, "n", &[]);
        run.expect_code(1).stderr_has(expected);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn to_json_shows_a_secret_as_its_fingerprint() {
    let project = Project::new();
    project.playbook(
        "j.rhai",
        "let s = secret::generate(16);\nprint(s.to_json());\nprint(#{ token: s, n: [1, s] }.to_json());\n",
    );
    let run = play(&project, "j", &[]);
    run.expect_code(0)
        .stdout_has("\"Secret(fp:")
        .stdout_has("{\"n\":[1,\"Secret(fp:");
    assert!(!run.stdout.contains("orchestra::"), "{}", run.stdout);
}

#[test]
fn a_service_account_with_path_characters_is_refused_before_any_request() {
    let project = Project::new();
    project
        .config("[scope]\ngcp_projects = [\"demo-project\"]\n")
        .playbook(
            "sa.rhai",
            r#"
for account in ["../x@demo-project.iam.gserviceaccount.com", "a/b@demo-project.iam.gserviceaccount.com",
                "a%2Fb@demo-project.iam.gserviceaccount.com", "a?b@demo-project.iam.gserviceaccount.com"] {
    try { iam::list_keys(account); print("SENT"); } catch (e) { print(e.message); }
}
"#,
        );
    let run = play(&project, "sa", &[]);
    run.expect_code(0)
        .stdout_has("NAME: up to 30 lowercase letters, digits and hyphens");
    assert!(!run.stdout.contains("SENT"), "{}", run.stdout);
}
