#!/usr/bin/env bash
# Idle resident memory of `orchestra daemon`: starts it on a schedule that ran once and is not
# due again for an hour, waits, and prints VmRSS and VmHWM from /proc. Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/orchestra-target}"
cargo build --quiet --release --bin orchestra
bin="$CARGO_TARGET_DIR/release/orchestra"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/playbooks"
printf 'print("tick");\nstate::set("last", run::id());\n' > "$dir/playbooks/tick.rhai"
printf '[[schedules]]\nplaybook = "tick"\nevery = "1h"\n' > "$dir/orchestra.toml"
(cd "$dir" && exec "$bin" -q daemon > /dev/null 2>&1) &
pid=$!
sleep "${SETTLE_SECONDS:-3}"
grep -E 'VmRSS|VmHWM' "/proc/$pid/status" | sed 's/^/daemon idle after one run: /'
kill -TERM "$pid"
wait "$pid" || true
