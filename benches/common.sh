# Sourced by the benchmark scripts: builds the release binary, makes a scratch project folder
# (the working directory from here on, removed on exit) and starts an orchestra emulator in it
# (BENCH_ORCHESTRA_EMULATOR=no, set before sourcing, skips that for a script that needs none).
# ORCHESTRA_BIN=path skips the build and runs that binary.
# Sets: bin (the orchestra binary), repo (the checkout), dir (the scratch folder),
#       emu (the emulator's pid), url (its base URL).
# Defines start_firestore_emulator (below); whatever it and this file start is stopped on exit.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/orchestra-target}"
if [ -n "${ORCHESTRA_BIN:-}" ]; then
  bin="$ORCHESTRA_BIN"  # e.g. a debug build, to compare before and after; figures are from release
else
  cargo build --quiet --release --bin orchestra
  bin="$CARGO_TARGET_DIR/release/orchestra"
fi
dir=$(mktemp -d)
emu=""
fsemu=""
bench_stop() {
  if [ -n "$emu" ]; then kill "$emu" 2>/dev/null || true; fi
  # gcloud runs the Firestore emulator's java under a shell script: stop the whole process group.
  if [ -n "$fsemu" ]; then kill -TERM -- "-$fsemu" 2>/dev/null || true; wait "$fsemu" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap bench_stop EXIT
mkdir -p "$dir/playbooks" "$dir/stdlib"
cd "$dir"
# GitHub's secondary limits on a one-second minute (TIME_SCALE, default 60), and orchestra
# pacing on the same clock, so a figure shows paced behaviour in seconds (see README, the
# emulator's limits).
TIME_SCALE="${TIME_SCALE:-60}"
export ORCHESTRA_LIMITS__TIME_SCALE="$TIME_SCALE"
# Starts the installed Firestore emulator (gcloud) on a free port in its own process group and
# waits until it answers. Sets and exports FIRESTORE_EMULATOR_HOST; sets fsemu (the group's
# pid, stopped on exit); its output goes to firestore.out in the scratch folder.
start_firestore_emulator() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export FIRESTORE_EMULATOR_HOST="127.0.0.1:$port"
  setsid gcloud emulators firestore start --host-port="$FIRESTORE_EMULATOR_HOST" --quiet > "$dir/firestore.out" 2>&1 &
  fsemu=$!
  for _ in $(seq 600); do
    curl -fs "http://$FIRESTORE_EMULATOR_HOST/" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$dir/firestore.out" >&2
  return 1
}
[ "${BENCH_ORCHESTRA_EMULATOR:-yes}" = no ] && return 0
"$bin" -q emulator --port 0 --time-scale "$TIME_SCALE" > emulator.out 2>&1 &
emu=$!
for _ in $(seq 100); do grep -q 'listening on' emulator.out 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' emulator.out | head -1)
