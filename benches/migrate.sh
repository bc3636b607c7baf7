#!/usr/bin/env bash
# `orchestra migrate status` and `orchestra migrate report` as whole processes (start-up,
# config, store, reading every phase run and metric, printing) over 100 recorded phase runs,
# the mean and the slowest of REPEAT runs each.
# Target (issue 19): under 20 ms each, whole process.
#
# The phase runs are real: seven phases whose playbooks record a metric, each executed with
# `migrate execute --phase P` until RECORDED phase runs exist (each an execute and a verify run).
# Builds nothing: it runs ORCHESTRA_BIN (default: $CARGO_TARGET_DIR/release/orchestra; the
# lead makes release builds). A debug binary works too, but its figures are not the target's.
#
# usage: benches/migrate.sh   (RECORDED=100 REPEAT=20 by default)
set -euo pipefail
RECORDED="${RECORDED:-100}"
REPEAT="${REPEAT:-20}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${ORCHESTRA_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/orchestra}"
[ -x "$bin" ] || { echo "no orchestra binary at $bin: set ORCHESTRA_BIN" >&2; exit 1; }
case "$bin" in */debug/*) echo "note: $bin is a debug build; the 20 ms target is for release" ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
mkdir -p playbooks/migration stdlib
printf 'migration::phase();\nmigration::metric("took_ms", 12.5);\n' > playbooks/migration/work.rhai
printf 'migration::phase();\n' > playbooks/migration/check.rhai
{
  printf '[migration]\nname = "bench"\nproject = "bench-project"\n'
  for p in CORE_INFRASTRUCTURE WORKSTATION_CONFIG MEMORY_SYSTEM HYBRID_CONFIG AI_CODING API_DEPLOYMENT VALIDATION; do
    printf '\n[[phases]]\nname = "%s"\nexecute = "playbooks/migration/work.rhai"\nverify = "playbooks/migration/check.rhai"\nmetrics = [{ name = "took_ms", at_most = 500 }]\n' "$p"
  done
} > migration.toml
phases=(CORE_INFRASTRUCTURE WORKSTATION_CONFIG MEMORY_SYSTEM HYBRID_CONFIG AI_CODING API_DEPLOYMENT VALIDATION)
for i in $(seq 0 $((RECORDED - 1))); do
  "$bin" -q migrate execute --phase "${phases[$((i % 7))]}" > /dev/null
done
recorded=$("$bin" -q migrate report --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["timeline"]))')
echo "recorded phase runs: $recorded (each an execute and a verify run); $bin"

measure() {
  local label=$1 note=$2; shift 2
  local total=0 worst=0
  for _ in $(seq "$REPEAT"); do
    local start end took
    start=$(date +%s%N)
    "$@" > /dev/null
    end=$(date +%s%N)
    took=$(( (end - start) / 1000 ))
    total=$((total + took))
    [ "$took" -gt "$worst" ] && worst=$took
  done
  python3 -c "print(f'$label mean {$total / $REPEAT / 1000:.1f} ms, slowest {$worst / 1000:.1f} ms over $REPEAT runs$note')"
}
measure "migrate status" " (target: under 20 ms)" "$bin" -q migrate status
measure "migrate report" " (target: under 20 ms)" "$bin" -q migrate report
measure "migrate report --json" " (target: under 20 ms)" "$bin" -q migrate report --json
measure "baseline: orchestra --version (start-up alone)" "" "$bin" --version
