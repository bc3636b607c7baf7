#!/usr/bin/env bash
# Whole-process time of `orchestra doctor` with every check against the emulator (an
# `orchestra emulator` process; a service-account key file, a PAT, Resource Manager), beside
# the target of 300 ms. Uses hyperfine when installed, else a loop of runs.
# Usage: benches/doctor.sh [debug|release]   (default: debug; release builds once)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/orchestra-target}"
profile="${1:-debug}"
if [ "$profile" = release ]; then cargo build -q --release --bin orchestra; else cargo build -q --bin orchestra; fi
bin="$CARGO_TARGET_DIR/$profile/orchestra"
work="$(mktemp -d)"
trap 'kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
mkdir playbooks
"$bin" emulator --port 0 >emulator.log 2>&1 &
emu_pid=$!
for _ in $(seq 100); do grep -q "listening on" emulator.log && break; sleep 0.1; done
url="$(grep -o 'http://127.0.0.1:[0-9]*' emulator.log | head -1)"
curl -s -X POST "$url/v1/projects/-/serviceAccounts/deployer@demo-project.iam.gserviceaccount.com/keys" -d '{}' \
  | python3 -c 'import sys,json,base64; sys.stdout.write(base64.b64decode(json.load(sys.stdin)["privateKeyData"]).decode())' >key.json
pat="$(curl -s -X POST "$url/_emulator/github/tokens" -d '{"login":"demo-user","scopes":["repo"]}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"
cat >orchestra.toml <<TOML
[github]
api_url = "$url"
token_env = "BENCH_GITHUB_TOKEN"
[gcp]
project = "demo-project"
resource_manager_url = "$url"
[scope]
gcp_projects = ["demo-project"]
github_repos = ["acme/api"]
TOML
printf 'let v = secrets::access("k");\ngithub::put_secret("acme/api", "X", v);\niam::list_keys("deployer@demo-project.iam.gserviceaccount.com");\n' >playbooks/p.rhai
export GOOGLE_APPLICATION_CREDENTIALS="$work/key.json" BENCH_GITHUB_TOKEN="$pat" ORCHESTRA_CRONTAB="$work/crontab"
"$bin" doctor >first.txt || { grep -A1 "^✗" first.txt >&2; echo "(doctor found the above; timing anyway)" >&2; }
echo "orchestra doctor ($profile), every check, against the emulator at $url; target < 300 ms"
if command -v hyperfine >/dev/null; then
  hyperfine -N -i --warmup 3 --runs 20 "$bin doctor"
else
  runs=20; start=$(date +%s%N)
  for _ in $(seq $runs); do "$bin" doctor >/dev/null; done
  end=$(date +%s%N)
  echo "mean: $(( (end - start) / runs / 1000000 )) ms over $runs runs"
fi
