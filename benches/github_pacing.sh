#!/usr/bin/env bash
# 500 Actions-secret writes to org:acme (a repository holds at most 100) under GitHub's secondary limits, as the emulator
# enforces them on a TIME_SCALE x clock (default 10: a minute is six real seconds, so the
# limits, not the client's own speed, bound the schedule; common.sh): orchestra
# (github::put_secrets, paced per credential) side by side with a naive client (every PUT at
# once from 500 threads, each retrying after `retry-after` when refused), each against its own
# fresh emulator. Times are read from the emulator's request log on its scaled clock (GitHub
# time), never from the wall clock: from the first request of the run to the last accepted
# write. The optimum is what the limits allow at best: a window's worth of points at once,
# then one more window's worth each minute, so (ceil(N * write_points / points_per_minute) - 1)
# minutes for the last write (the content limits do not apply to secret PUTs unless the
# emulator counts them as content, in which case they are taken into account too).
# Refusals are the emulator's own counts (/_emulator/limits), and the writes that reached the
# emulator's state are counted so nothing lost shows.
N="${N:-500}"
TIME_SCALE="${TIME_SCALE:-10}"
source "$(dirname "$0")/common.sh"
VENV="${VENV:-$HOME/.cache/orchestra-conformance-venv}"
if ! "$VENV/bin/python" -c 'import nacl, requests' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r "$repo/emulator/conformance/requirements.txt"
fi
py="$VENV/bin/python"
export BENCH_GITHUB_TOKEN=ghp_orchestraDemoToken0000000000000000

printf '[github]\napi_url = "%s"\ntoken_env = "BENCH_GITHUB_TOKEN"\n[scope]\ngithub_owners = ["acme"]\n' "$url" > orchestra.toml
cat > playbooks/put_many.rhai <<RHAI
let batch = #{};
for i in 0..$N { batch[\`PACED_\${i}\`] = secret::generate(24); }
let outcome = github::put_secrets("org:acme", batch);
print(\`\${outcome.len()} written\`);
RHAI

# Reads the emulator at $1 after a run of $2 writes: its scaled-clock schedule, the refusals,
# the writes kept, and the optimum its limits allow.
report() {
  "$py" - "$@" <<'PY'
import collections, json, math, sys, urllib.request
base, label, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def get(path):
    with urllib.request.urlopen(base + path, timeout=30) as r:
        return json.loads(r.read())
log = [r for r in get("/_emulator/requests")["requests"] if not r["path"].startswith("/v1/")]
puts = [r for r in log if r["method"] == "PUT" and "/actions/secrets/" in r["path"]]
ok = [r for r in puts if r["status"] in (201, 204)]
start = min(r["at_scaled_ms"] for r in log)
took = (max(r["at_scaled_ms"] for r in ok) - start) / 1000
limits = get("/_emulator/limits")
s = limits["settings"]
windows = math.ceil(n * s["write_points"] / s["points_per_minute"]) - 1
if s["secret_puts_are_content"]:
    windows = max(windows, math.ceil(n / s["content_per_minute"]) - 1)
optimum = windows * 60
kept = sum(1 for name in get("/_emulator/state?reveal=true")["github"]["orgs"]["acme"]["secrets"]["secrets"]
           if name.startswith(("PACED_", "NAIVE_")))
refused = limits["refusals"]
per_minute = collections.Counter(int((r["at_scaled_ms"] - start) // 60000) for r in ok)
print(f"{label:<10} accepted writes in each GitHub minute: {[per_minute[m] for m in range(max(per_minute) + 1)]}")
print(f"{label:<10} {n} writes in {took:7.1f} s of GitHub time (optimum {optimum} s, "
      f"{took / optimum:5.2f}x); {len(puts)} PUTs sent, {refused['total']} refused "
      f"(concurrency {refused['concurrency']}, points {refused['points']}, content {refused['content']}); "
      f"{kept} secrets kept")
PY
}

"$bin" -q play put_many > play.out 2> play.err || { cat play.err >&2; exit 1; }
report "$url" orchestra "$N"

# The naive client, against an emulator of its own (fresh windows, same limits and clock).
"$bin" -q emulator --port 0 --time-scale "$TIME_SCALE" > naive-emulator.out 2>&1 &
naive_emu=$!
trap 'kill "$emu" "$naive_emu" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q 'listening on' naive-emulator.out 2>/dev/null && break; sleep 0.1; done
naive_url=$(grep -o 'http://127.0.0.1:[0-9]*' naive-emulator.out | head -1)
"$py" - "$naive_url" "$N" <<'PY'
import base64, sys, time
from concurrent.futures import ThreadPoolExecutor
import requests
from nacl import encoding, public
base, n = sys.argv[1], int(sys.argv[2])
auth = {"Authorization": "Bearer ghp_orchestraDemoToken0000000000000000"}
key = requests.get(base + "/orgs/acme/actions/secrets/public-key", headers=auth, timeout=30).json()
box = public.SealedBox(public.PublicKey(key["key"].encode(), encoding.Base64Encoder()))
def put(i):
    body = {"encrypted_value": base64.b64encode(box.encrypt(f"value-{i}".encode())).decode(), "key_id": key["key_id"], "visibility": "all"}
    while True:
        answer = requests.put(f"{base}/orgs/acme/actions/secrets/NAIVE_{i}", json=body, headers=auth, timeout=60)
        if answer.status_code in (403, 429) and "retry-after" in answer.headers:
            time.sleep(float(answer.headers["retry-after"]))
            continue
        answer.raise_for_status()
        return
with ThreadPoolExecutor(max_workers=n) as pool:
    list(pool.map(put, range(n)))
PY
report "$naive_url" naive "$N"
