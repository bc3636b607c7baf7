#!/usr/bin/env bash
# Run state, SQLite beside the shared Firestore backend on the installed Firestore emulator
# (release build, both folders talking to one orchestra emulator):
#   lock        a whole `orchestra play noop` process (lock acquire + run record + release,
#               plus start-up), the mean of RUNS; the Firestore minus SQLite difference is the
#               shared lock's cost
#   step        one journaled mutation, timed inside the playbook (state::set: the fenced
#               intent, the write, the outcome), the mean of STEPS
#   runs        `orchestra runs --limit 1000` over 1,000 runs (made in SQLite with sqlite3,
#               copied to Firestore with `orchestra state migrate --to firestore`)
#   rotation    `orchestra play rotate_keys --arg force=true` (its 13 steps) against the
#               emulator, the mean of ROTATIONS; the state overhead is the Firestore minus
#               SQLite difference as a share of the Firestore run
#   calls       the Firestore calls (commits, document reads, queries, transactions begun and
#               rolled back) per journaled step and per rotation, counted from the client's
#               debug log (`RUST_LOG=orchestra::clients::firestore=debug`) of one run each
# Targets (issue 16): a journaled step <= 5 ms on the emulator; a rotation's state overhead
# <= 10% of its run time. The figures are printed beside them.
#
# Before anything is timed, each backend runs WARMUP discarded rounds of every measured
# command: the Firestore emulator is a JVM, and its first requests run interpreted.
#
# usage: benches/state.sh   (RUNS=10 STEPS=100 ROTATIONS=3 WARMUP=3 by default;
#                            ORCHESTRA_BIN=path skips the build and times that binary)
RUNS="${RUNS:-10}"
STEPS="${STEPS:-100}"
ROTATIONS="${ROTATIONS:-3}"
WARMUP="${WARMUP:-3}"
source "$(dirname "$0")/common.sh"

start_firestore_emulator
export BENCH_GITHUB_TOKEN=ghp_orchestraDemoToken0000000000000000
echo "orchestra emulator at $url, Firestore emulator at $FIRESTORE_EMULATOR_HOST; RUNS=$RUNS STEPS=$STEPS ROTATIONS=$ROTATIONS WARMUP=$WARMUP; $bin"

# One folder per backend, no shared file.
for backend in sqlite firestore; do
  mkdir -p "$backend/playbooks" "$backend/stdlib"
  cp "$repo"/playbooks/rotate_keys.rhai "$repo"/playbooks/rotate_service_account_keys.rhai \
    "$repo"/playbooks/rotate_github_tokens.rhai "$backend/playbooks/"
  cp "$repo"/stdlib/*.rhai "$backend/stdlib/"
  printf 'let x = 1;\n' > "$backend/playbooks/noop.rhai"
  cat > "$backend/playbooks/steps.rhai" <<RHAI
state::set("warm", 0);
let t = timestamp();
for i in 0..$STEPS { state::set("k", i); }
print("" + (t.elapsed * 1000.0 / $STEPS));
RHAI
  cat > "$backend/orchestra.toml" <<TOML
[github]
api_url = "$url"
token_env = "BENCH_GITHUB_TOKEN"

[gcp]
project = "demo-project"
secret_manager_url = "$url"
iam_url = "$url"
credentials = "anonymous"
token_uris = ["$url/token"]

[scope]
gcp_projects = ["demo-project"]
github_repos = ["acme/api"]

[[rotations.service_accounts]]
account = "deployer@demo-project.iam.gserviceaccount.com"
secret = "deployer-key"
consumers = [{ target = "acme/api", name = "GCP_SA_KEY" }]
keep_keys = 2
grace = "0s"
TOML
done
cat >> firestore/orchestra.toml <<TOML

[state]
backend = "firestore"
project = "demo-project"
prefix = "bench"
machine = "bench"
TOML

ms() { python3 -c 'import time; print(time.perf_counter_ns() // 1000000)'; }
mean_ms() { # mean_ms N CMD...: the mean wall time of N runs of CMD, in ms
  local n=$1; shift; local start end
  start=$(ms)
  for _ in $(seq "$n"); do "$@" > /dev/null 2>&1 || { "$@"; exit 1; }; done
  end=$(ms)
  echo $(( (end - start) / n ))
}

# calls CMD...: "commits reads queries begun rolled-back", the Firestore calls of one run of CMD.
calls() {
  RUST_LOG=orchestra::clients::firestore=debug "$@" 2>&1 >/dev/null | python3 -c '
import re, sys
n = {"Commit": 0, "GetDocument": 0, "RunQuery": 0, "BeginTransaction": 0, "Rollback": 0}
for line in sys.stdin:
    m = re.search(r"rpc=\"?(\w+)", line)
    if m and m.group(1) in n:
        n[m.group(1)] += 1
print(*n.values())'
}

declare -A lock step runs rotation
for backend in sqlite firestore; do
  cd "$dir/$backend"
  # Discarded: warms the JVM emulator (and the page cache, for SQLite) on every path timed.
  for _ in $(seq "$WARMUP"); do
    "$bin" -q play noop > /dev/null
    "$bin" -q play steps > /dev/null
    "$bin" -q play rotate_keys --arg force=true > /dev/null
  done
  lock[$backend]=$(mean_ms "$RUNS" "$bin" -q play noop)
  step[$backend]=$("$bin" -q play steps | tail -1)
  rotation[$backend]=$(mean_ms "$ROTATIONS" "$bin" -q play rotate_keys --arg force=true)
done

cd "$dir/firestore"
noop_calls=$(calls "$bin" play noop)
steps_calls=$(calls "$bin" play steps)
rotation_calls=$(calls "$bin" play rotate_keys --arg force=true)

# 1,000 runs: copies of one run row in a fresh SQLite folder, then the same in Firestore.
mkdir -p "$dir/many/playbooks"
cd "$dir/many"
cp "$dir/sqlite/playbooks/noop.rhai" playbooks/
cp "$dir/sqlite/orchestra.toml" .
"$bin" -q play noop > /dev/null
sqlite3 .orchestra/state.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
  INSERT INTO runs (playbook, source_hash, args, mode, status, pid, host, started_at, finished_at, error)
  SELECT playbook, source_hash, args, mode, status, pid, host, started_at + i, finished_at + i, error
  FROM runs, n WHERE runs.id = 1"
runs[sqlite]=$(mean_ms 3 "$bin" -q runs --limit 1000)
printf '\n[state]\nbackend = "firestore"\nproject = "demo-project"\nprefix = "many"\nmachine = "bench"\n' >> orchestra.toml
"$bin" -q state migrate --to firestore
test "$("$bin" -q runs --limit 1000 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1000
runs[firestore]=$(mean_ms 3 "$bin" -q runs --limit 1000)

printf '\n%-34s %10s %10s   %s\n' "" "SQLite" "Firestore" "target"
printf '%-34s %8s ms %8s ms\n' "play noop (lock, record, release)" "${lock[sqlite]}" "${lock[firestore]}"
printf '%-34s %8.2f ms %8.2f ms   <= 5 ms (Firestore)\n' "one journaled step (state::set)" "${step[sqlite]}" "${step[firestore]}"
printf '%-34s %8s ms %8s ms\n' "runs --limit 1000 (1,000 runs)" "${runs[sqlite]}" "${runs[firestore]}"
printf '%-34s %8s ms %8s ms\n' "rotate_keys --arg force=true" "${rotation[sqlite]}" "${rotation[firestore]}"
python3 - "${rotation[sqlite]}" "${rotation[firestore]}" "$STEPS" "$noop_calls" "$steps_calls" "$rotation_calls" <<'PY'
import sys
sqlite, firestore, steps = (int(x) for x in sys.argv[1:4])
noop, stepped, rotation = ([int(n) for n in a.split()] for a in sys.argv[4:7])
overhead = 100 * (firestore - sqlite) / firestore if firestore else 0.0
print(f"{'rotation state overhead':34} {firestore - sqlite:8} ms {overhead:8.1f} %    <= 10 % of the Firestore run")
names = ["commits", "reads", "queries", "tx begun", "rolled back"]
print(f"\nFirestore calls {'':18} " + " ".join(f"{n:>11}" for n in names))
# The steps playbook is one state::set before the timer and STEPS after it, inside a run.
per_step = [(s - n) / (steps + 1) for s, n in zip(stepped, noop)]
print(f"{'per journaled step (state::set)':34} " + " ".join(f"{v:11.2f}" for v in per_step))
print(f"{'per run of play noop':34} " + " ".join(f"{v:11}" for v in noop))
print(f"{'per rotation (whole run)':34} " + " ".join(f"{v:11}" for v in rotation))
PY
