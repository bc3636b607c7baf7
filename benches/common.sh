# Sourced by the benchmark scripts: builds the release binary, makes a scratch project folder
# (the working directory from here on, removed on exit) and starts an emulator in it.
# ORCHESTRA_BIN=path skips the build and runs that binary.
# Sets: bin (the orchestra binary), repo (the checkout), dir (the scratch folder),
#       emu (the emulator's pid), url (its base URL).
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
trap 'kill "$emu" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/playbooks" "$dir/stdlib"
cd "$dir"
# GitHub's secondary limits on a one-second minute (TIME_SCALE, default 60), and orchestra
# pacing on the same clock, so a figure shows paced behaviour in seconds (see README, the
# emulator's limits).
TIME_SCALE="${TIME_SCALE:-60}"
export ORCHESTRA_LIMITS__TIME_SCALE="$TIME_SCALE"
"$bin" -q emulator --port 0 --time-scale "$TIME_SCALE" > emulator.out 2>&1 &
emu=$!
for _ in $(seq 100); do grep -q 'listening on' emulator.out 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' emulator.out | head -1)
