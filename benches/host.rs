//! Host benchmarks: whole-process time of `orchestra play` on a trivial playbook, the cost of
//! one native primitive call from Rhai, and the cost of one journaled step write.
//!
//! Run: `cargo bench --bench host` (release build). Criterion prints the figures; the
//! per-call and per-step costs are the reported time divided by the element count it shows.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use orchestra::config::Config;
use orchestra::engine::{self, PlaybookSource, RunContext};
use orchestra::store::{NewRun, RunMode, StepEffect, StepStatus, Store};

const CALLS: u64 = 10_000;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("playbooks")).expect("playbooks");
    std::fs::write(
        dir.path().join("playbooks/trivial.rhai"),
        "let x = 40 + 2;\nprint(`answer ${x}`);\n",
    )
    .expect("playbook");
    dir
}

fn whole_process(c: &mut Criterion) {
    let dir = project();
    let binary = env!("CARGO_BIN_EXE_orchestra");
    // Warm the state database (creation and migration happen once per project, not per run).
    run_play(binary, dir.path());
    let mut group = c.benchmark_group("process");
    group.sample_size(50);
    group.bench_function("orchestra play trivial.rhai", |b| {
        b.iter(|| run_play(binary, dir.path()))
    });
    group.finish();
}

fn run_play(binary: &str, dir: &Path) {
    let status = Command::new(binary)
        .args(["-q", "play", "trivial"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run orchestra");
    assert!(status.success());
}

fn prepared(script: &str) -> engine::PreparedPlaybook {
    let config = Arc::new(Config::default());
    let context = RunContext::builder(config)
        .capture_prints()
        .ephemeral_fingerprints()
        .build();
    let source = PlaybookSource {
        path: std::env::temp_dir().join("bench.rhai"),
        shown: "bench.rhai".into(),
        text: script.into(),
        hash: String::new(),
    };
    engine::prepare(source, &context, rhai::Map::new())
        .unwrap_or_else(|d| panic!("bench script does not compile: {d:?}"))
}

fn primitive_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("primitive");
    group.throughput(Throughput::Elements(CALLS));
    let with_call = prepared(&format!(
        "let n = 0; for i in 0..{CALLS} {{ n += run::id(); }} n"
    ));
    let baseline = prepared(&format!("let n = 0; for i in 0..{CALLS} {{ n += 0; }} n"));
    group.bench_function("loop with one primitive call per iteration", |b| {
        b.iter(|| black_box(with_call.eval_here().expect("eval")))
    });
    group.bench_function("same loop without the call (baseline)", |b| {
        b.iter(|| black_box(baseline.eval_here().expect("eval")))
    });
    group.finish();
}

fn journaled_step(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("state.db")).expect("store");
    let run = store
        .start_run_with_lock(
            "bench",
            &NewRun {
                playbook: "bench.rhai".into(),
                source_hash: String::new(),
                args_json: "{}".into(),
                mode: RunMode::Apply,
                resumes: None,
            },
        )
        .expect("run");
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one journaled step (intent + outcome)", |b| {
        b.iter(|| {
            let step = store
                .begin_step(
                    run.run_id,
                    "state::set",
                    StepEffect::Mutate,
                    "state key `k`",
                    StepStatus::Started,
                    "set state key `k` (value=1)",
                )
                .expect("begin");
            store
                .finish_step(step, StepStatus::Succeeded, "set state key `k` (value=1)")
                .expect("finish");
        })
    });
    group.finish();
}

criterion_group!(benches, whole_process, primitive_call, journaled_step);
criterion_main!(benches);
