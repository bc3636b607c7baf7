#!/usr/bin/env bash
# Batch primitives against the emulator (release build): 500 GitHub secret PUTs through
# github::put_secrets vs one by one, and 500 Secret Manager reads through secrets::access_many
# vs one by one, with orchestra's peak RSS for each run. Times are measured inside the
# playbooks (Rhai's timestamp()), so process start-up is not counted.
N="${N:-500}"
source "$(dirname "$0")/common.sh"

cat > orchestra.toml <<TOML
[github]
api_url = "$url"
token_env = "BENCH_GITHUB_TOKEN"
[scope]
github_owners = ["acme"]
gcp_projects = ["demo-project"]
TOML
export BENCH_GITHUB_TOKEN=ghp_orchestraDemoToken0000000000000000

cat > playbooks/put_seq.rhai <<RHAI
let v = secret::generate(32);
let t = timestamp();
for i in 0..$N { github::put_secret("org:acme", \`SEQ_\${i}\`, v); }
print(\`github one by one: $N PUTs in \${t.elapsed} s\`);
RHAI
cat > playbooks/put_batch.rhai <<RHAI
let v = secret::generate(32);
let batch = #{};
for i in 0..$N { batch[\`BATCH_\${i}\`] = v; }
let t = timestamp();
github::put_secrets("org:acme", batch);
print(\`github batch: $N PUTs in \${t.elapsed} s\`);
RHAI
cat > playbooks/sm.rhai <<RHAI
let names = [];
for i in 0..$N { let n = \`bench-\${i}\`; secrets::create(n); secrets::add_version(n, secret::generate(32), #{}); names.push(n); }
let t = timestamp();
for n in names { secrets::access(n); }
print(\`secret manager one by one: $N reads in \${t.elapsed} s\`);
let t = timestamp();
let all = secrets::access_many(names);
print(\`secret manager batch: \${all.len()} reads in \${t.elapsed} s\`);
RHAI

measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(out.stdout)
if out.returncode != 0:
    sys.stderr.write(out.stderr)
    sys.exit(out.returncode)
print(f"  peak RSS of orchestra: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MB")
PY
}
measure "$bin" -q play put_seq
measure "$bin" -q play put_batch
measure "$bin" -q play sm --emulate
