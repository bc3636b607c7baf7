#!/usr/bin/env bash
# orchestra's firestore:: (release build) against Google's Python client (google-cloud-firestore,
# pinned in emulator/conformance/requirements.txt), side by side against the same installed
# Firestore emulator: GETS uncached single-document gets (orchestra keeps no document cache, so
# every get is a round trip), one query returning 100 documents, one batch of 1,000 writes.
# Times are measured inside each program (Rhai's timestamp(), Python's perf_counter), so process
# start-up is not counted; peak RSS is of the whole process (getrusage of the child).
#
# The retrieve row is memory:: on this backend: a value read once, then served from the TTL
# cache (the empty loop's time subtracted).
#
# usage: benches/firestore.sh   (GETS=200, RETRIEVES=100000, ROUNDS=3 by default; ORCHESTRA_BIN=path skips the build)
# The ratio column is Python's time over orchestra's: above 1 means orchestra is faster.
set -euo pipefail
GETS="${GETS:-200}"
RETRIEVES="${RETRIEVES:-100000}"
BENCH_ORCHESTRA_EMULATOR=no
source "$(dirname "$0")/common.sh"

venv="${ORCHESTRA_CONFORMANCE_VENV:-$HOME/.cache/orchestra-conformance-venv}"
if ! "$venv/bin/python" -c 'import google.cloud.firestore' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$repo/emulator/conformance/requirements.txt"
fi

start_firestore_emulator
echo "Firestore emulator at $FIRESTORE_EMULATOR_HOST (pid $fsemu); GETS=$GETS"

cat > orchestra.toml <<TOML
[gcp]
project = "bench-orchestra"
[scope]
firestore_databases = ["bench-orchestra"]
[memory]
backend = "firestore"
TOML

cat > playbooks/fs.rhai <<RHAI
memory::store("bench/context", #{ step: 3, notes: "cached after the first read" });
memory::retrieve("bench/context");
let t = timestamp();
for i in 0..$RETRIEVES { memory::retrieve("bench/context"); }
let with_call = t.elapsed;
let t = timestamp();
for i in 0..$RETRIEVES { }
let bare = t.elapsed;
print("retrieve " + ((with_call - bare) * 1000000.0 / $RETRIEVES) + " µs each (" + $RETRIEVES + " cached memory::retrieve, empty loop subtracted)");
let seed = [];
for i in 0..100 { seed.push(#{ set: "items/i" + i, data: #{ n: i, kind: "item", score: i / 4.0 } }); }
firestore::batch(seed);
firestore::set("agents/planner", #{ model: "gemini", temperature: 0.2, runs: 3 });
firestore::get("agents/planner");
let t = timestamp();
for i in 0..$GETS { firestore::get("agents/planner"); }
let e = t.elapsed;
print("get      " + (e * 1000.0 / $GETS) + " ms each (" + $GETS + " uncached gets in " + e + " s)");
let t = timestamp();
let docs = firestore::query("items", #{ where: [["kind", "==", "item"]], limit: 100 });
print("query    " + (t.elapsed * 1000.0) + " ms (" + docs.len() + " documents)");
let writes = [];
for i in 0..1000 { writes.push(#{ set: "bulk/b" + i, data: #{ n: i, kind: "bulk", score: i / 4.0 } }); }
let t = timestamp();
let outcome = firestore::batch(writes);
print("batch    " + (t.elapsed * 1000.0) + " ms (" + outcome.writes + " writes in " + outcome.commits.len() + " commits)");
RHAI

cat > bench.py <<PY
import time
from google.cloud import firestore

db = firestore.Client(project="bench-python")
seed = db.batch()
for i in range(100):
    seed.set(db.document(f"items/i{i}"), {"n": i, "kind": "item", "score": i / 4.0})
seed.commit()
db.document("agents/planner").set({"model": "gemini", "temperature": 0.2, "runs": 3})
db.document("agents/planner").get()
t = time.perf_counter()
for _ in range($GETS):
    db.document("agents/planner").get()
e = time.perf_counter() - t
print("retrieve n/a: google-cloud-firestore keeps no cache, every get is a round trip (the get row)")
print(f"get      {e * 1000 / $GETS} ms each ($GETS uncached gets in {e} s)")
t = time.perf_counter()
docs = list(db.collection("items").where(filter=firestore.FieldFilter("kind", "==", "item")).limit(100).stream())
print(f"query    {(time.perf_counter() - t) * 1000} ms ({len(docs)} documents)")
t = time.perf_counter()
commits = 0
for start in range(0, 1000, 500):  # a WriteBatch holds at most 500 writes in this client
    batch = db.batch()
    for i in range(start, start + 500):
        batch.set(db.document(f"bulk/b{i}"), {"n": i, "kind": "bulk", "score": i / 4.0})
    batch.commit()
    commits += 1
print(f"batch    {(time.perf_counter() - t) * 1000} ms (1000 writes in {commits} commits)")
PY

# Runs a command, prints its output and then the child's peak RSS.
measure() {
  python3 - "$@" <<'PY2'
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(out.stdout)
if out.returncode != 0:
    sys.stderr.write(out.stderr)
    sys.exit(out.returncode)
print(f"peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MB")
PY2
}
# The emulator is a JVM that gets faster as it warms up, and the machine may be busy: both
# sides first run once untimed (the same calls, so the JVM has compiled the same paths for
# both), then take turns ROUNDS times, the first to go alternating, and the summary compares
# the median of each row.
python_version=$("$venv/bin/python" -c 'import google.cloud.firestore as f; print(f.__version__)')
echo "== warm-up: one untimed run of each"
measure "$bin" -q play fs > /dev/null
measure "$venv/bin/python" bench.py > /dev/null
run_orchestra() {
  echo "== round $round: orchestra firestore:: ($bin)"
  measure "$bin" -q play fs | tee -a orchestra.rows
}
run_python() {
  echo "== round $round: Python google-cloud-firestore $python_version"
  measure "$venv/bin/python" bench.py | tee -a python.rows
}
for round in $(seq "${ROUNDS:-3}"); do
  if [ $((round % 2)) -eq 1 ]; then run_orchestra; run_python; else run_python; run_orchestra; fi
done
# Medians of each row, side by side, with the targets of issue 15.
python3 - orchestra.rows python.rows <<'PY2'
import statistics, sys
def rows(path):
    found = {}
    for line in open(path):
        words = line.split()
        if len(words) >= 2 and words[0] in ("retrieve", "get", "query", "batch"):
            try:
                value = float(words[1])
            except ValueError:
                continue
            found.setdefault(words[0], []).append(value)
        elif line.startswith("peak RSS"):
            found.setdefault("rss", []).append(float(words[2]))
    return {k: statistics.median(v) for k, v in found.items()}
ours, theirs = rows(sys.argv[1]), rows(sys.argv[2])
targets = {
    "retrieve": "<= 2 us (release)",
    "get": "faster than Python",
    "query": "faster than Python",
    "batch": ">= 3x faster than Python",
    "rss": "printed",
}
units = {"retrieve": "us", "get": "ms", "query": "ms", "batch": "ms", "rss": "MB"}
print("== medians (issue 15 targets)")
print(f"{'row':9}{'orchestra':>14}{'Python':>14}{'ratio':>8}  target")
for row in ("retrieve", "get", "query", "batch", "rss"):
    a, b = ours.get(row), theirs.get(row)
    shown = lambda v: "-" if v is None else f"{v:.3f} {units[row]}"
    ratio = f"{b / a:.2f}x" if a and b else "-"
    print(f"{row:9}{shown(a):>14}{shown(b):>14}{ratio:>8}  {targets[row]}")
PY2
