//! Memory benchmark: a cached `memory::retrieve` called from Rhai (target: at most 2 µs per
//! call), next to the same loop without the call, on the local backend (a real SQLite file).
//!
//! Run: `cargo bench --bench memory`. The per-call cost is (with call − baseline) / CALLS;
//! the bench prints it beside the 2 µs target.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use orchestra::config::Config;
use orchestra::engine::{self, PlaybookSource, RunContext};
use orchestra::store::Store;

const CALLS: u64 = 10_000;
const TARGET_NS: f64 = 2_000.0;

fn prepared(context: &Arc<RunContext>, script: &str) -> engine::PreparedPlaybook {
    let source = PlaybookSource {
        path: std::env::temp_dir().join("memory-bench.rhai"),
        shown: "memory-bench.rhai".into(),
        text: script.into(),
        hash: String::new(),
    };
    engine::prepare(source, context, rhai::Map::new())
        .unwrap_or_else(|d| panic!("bench script does not compile: {d:?}"))
}

fn per_call_ns(playbook: &engine::PreparedPlaybook, rounds: u32) -> f64 {
    let started = Instant::now();
    for _ in 0..rounds {
        let _ = black_box(playbook.eval_here().expect("eval"));
    }
    started.elapsed().as_nanos() as f64 / f64::from(rounds) / CALLS as f64
}

fn cached_retrieve(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("state.db")).expect("store");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let context = RunContext::builder(Arc::new(Config::default()))
        .store(store)
        .runtime(runtime.handle().clone())
        .capture_prints()
        .ephemeral_fingerprints()
        .build();
    let seeded = prepared(
        &context,
        r#"memory::store("bench/agent", #{ model: "gemini-2.5-flash", temperature: 0.2 }); memory::retrieve("bench/agent")"#,
    )
    .eval_here()
    .expect("seed the entry and the cache");
    assert!(seeded.is_map(), "the seeded entry reads back as a map");
    let with_call = prepared(
        &context,
        &format!(
            "let n = 0; for i in 0..{CALLS} {{ let v = memory::retrieve(\"bench/agent\"); n += 1; }} n"
        ),
    );
    let baseline = prepared(
        &context,
        &format!("let n = 0; for i in 0..{CALLS} {{ let v = (); n += 1; }} n"),
    );

    let mut group = c.benchmark_group("memory");
    group.throughput(Throughput::Elements(CALLS));
    group.bench_function("loop with one cached memory::retrieve per iteration", |b| {
        b.iter(|| black_box(with_call.eval_here().expect("eval")))
    });
    group.bench_function("same loop without the call (baseline)", |b| {
        b.iter(|| black_box(baseline.eval_here().expect("eval")))
    });
    group.finish();

    let call = per_call_ns(&with_call, 20);
    let base = per_call_ns(&baseline, 20);
    println!(
        "cached memory::retrieve from Rhai: {:.0} ns per call ({:.0} ns with the loop, {:.0} ns loop alone); target at most {:.0} ns",
        call - base,
        call,
        base,
        TARGET_NS
    );
}

criterion_group!(benches, cached_retrieve);
criterion_main!(benches);
