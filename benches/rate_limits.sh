#!/usr/bin/env bash
# One rate-limit check over 50 GitHub credentials against the emulator (release build): the
# main token plus 49 personal tokens, all asked concurrently by monitor::github_rate_limits().
# Prints the time of the check alone (measured inside the playbook, so process start-up is not
# counted), the wall time of the whole monitor_rate_limits playbook run, and orchestra's peak RSS.
N="${N:-50}"
source "$(dirname "$0")/common.sh"
cp "$repo/playbooks/monitor_rate_limits.rhai" playbooks/
cp "$repo/stdlib/report.rhai" stdlib/

cat > orchestra.toml <<TOML
[github]
api_url = "$url"
token_env = "BENCH_GITHUB_TOKEN"
[notify.slack.ops]
webhook_env = "BENCH_WEBHOOK"
TOML
export BENCH_GITHUB_TOKEN=ghp_orchestraDemoToken0000000000000000
export BENCH_WEBHOOK="$url/slack/ops"
for i in $(seq 2 "$N"); do
  token=$(curl -sf -X POST "$url/_emulator/github/tokens" -d '{"login":"demo-user","scopes":["repo"]}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export "BENCH_CREDENTIAL_$i=$token"
  printf '\n[[github.credentials]]\nname = "cred-%s"\ntoken_env = "BENCH_CREDENTIAL_%s"\n' "$i" "$i" >> orchestra.toml
done

cat > playbooks/check_only.rhai <<'RHAI'
let t = timestamp();
let result = monitor::github_rate_limits();
let credentials = #{};
for c in result.checks { credentials[c.credential] = true; }
print(`one check of ${credentials.len()} credentials (${result.checks.len()} windows, ${result.failures.len()} failures) in ${t.elapsed} s`);
RHAI

measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
if out.returncode != 0:
    sys.stderr.write(out.stderr)
    sys.exit(out.returncode)
for line in out.stdout.splitlines():
    if line.startswith("one check") or "credentials checked" in line:
        print(line)
print(f"  wall time of the run {wall:.3f} s, peak RSS of orchestra {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MB")
PY
}
measure "$bin" -q play check_only
measure "$bin" -q play monitor_rate_limits
