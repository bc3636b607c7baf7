#!/usr/bin/env bash
# playbooks/sync_secrets.rhai against the emulator (release build): N secrets (default 500)
# Secret Manager -> GitHub org:acme, side by side with the way the old scripts did it (one
# `gcloud secrets versions access` process per read, one Python PyNaCl process per GitHub
# write) and with the raw HTTP round trips alone (one keep-alive Python client, 8 threads,
# the same reads and sealed PUTs). Prints the times, the ratios and orchestra's peak RSS.
# The loop costs about half a second per secret: N_LOOP (default 50) secrets are timed and
# the figure extrapolated to N, which the output says.
N="${N:-500}"
N_LOOP="${N_LOOP:-50}"
source "$(dirname "$0")/common.sh"
VENV="${VENV:-$HOME/.cache/orchestra-conformance-venv}"
if ! "$VENV/bin/python" -c 'import nacl' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r "$repo/emulator/conformance/requirements.txt"
fi
py="$VENV/bin/python"
mkdir -p gcloud
cp "$repo/playbooks/sync_secrets.rhai" playbooks/
cp "$repo/stdlib/sync.rhai" stdlib/
export BENCH_GITHUB_TOKEN=ghp_orchestraDemoToken0000000000000000

{
  printf '[github]\napi_url = "%s"\ntoken_env = "BENCH_GITHUB_TOKEN"\n' "$url"
  printf '[gcp]\nproject = "demo-project"\nsecret_manager_url = "%s"\ncredentials = "anonymous"\n' "$url"
  printf '[scope]\ngithub_owners = ["acme"]\ngcp_projects = ["demo-project"]\n\n'
  for i in $(seq 0 $((N - 1))); do
    printf '[[sync.secrets]]\ngcp = "bench-%s"\ngithub = "BENCH_%s"\ntargets = ["org:acme"]\n' "$i" "$i"
  done
} > orchestra.toml

# The secrets to sync, written through one keep-alive connection.
"$py" - "$url" "$N" <<'PY'
import base64, http.client, json, sys, urllib.parse
url, n = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection(url.hostname, url.port)
def call(method, path, body):
    conn.request(method, path, json.dumps(body), {"Content-Type": "application/json"})
    conn.getresponse().read()
for i in range(n):
    call("POST", f"/v1/projects/demo-project/secrets?secretId=bench-{i}",
         {"replication": {"automatic": {}}, "labels": {"managed-by": "orchestra"}})
    call("POST", f"/v1/projects/demo-project/secrets/bench-{i}:addVersion",
         {"payload": {"data": base64.b64encode(f"value-{i}-".encode() * 4).decode()}})
PY

echo "== orchestra: sync_secrets, $N secrets Secret Manager -> GitHub org:acme"
"$py" - "$bin" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
out = subprocess.run([sys.argv[1], "-q", "play", "sync_secrets", "--arg", "direction=gcp-to-github"],
                     capture_output=True, text=True)
took = time.monotonic() - start
if out.returncode != 0:
    sys.stderr.write(out.stdout[-2000:] + out.stderr[-2000:]); sys.exit(1)
print(out.stdout.strip().splitlines()[-2])
print(f"  orchestra: {took:.2f} s wall, peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MB")
open("orchestra.secs", "w").write(f"{took}")
PY
echo "== rerun with nothing changed"
/usr/bin/time -f "  orchestra rerun: %e s wall, peak RSS %M KB" "$bin" -q play sync_secrets --arg direction=gcp-to-github | tail -2

# The old way: one gcloud process per read, one Python process per GitHub write.
export CLOUDSDK_CONFIG="$dir/gcloud" CLOUDSDK_CORE_DISABLE_PROMPTS=1
gcloud config set api_endpoint_overrides/secretmanager "$url/" > /dev/null 2>&1
gcloud config set auth/disable_credentials true > /dev/null 2>&1
cat > put_one.py <<'PY'
import base64, json, sys, urllib.request
from nacl import encoding, public
url, token, name = sys.argv[1], sys.argv[2], sys.argv[3]
value = sys.stdin.buffer.read()
auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
key = json.load(urllib.request.urlopen(urllib.request.Request(f"{url}/orgs/acme/actions/secrets/public-key", headers=auth)))
box = public.SealedBox(public.PublicKey(key["key"].encode(), encoding.Base64Encoder()))
body = json.dumps({"encrypted_value": base64.b64encode(box.encrypt(value)).decode(), "key_id": key["key_id"], "visibility": "private"})
urllib.request.urlopen(urllib.request.Request(f"{url}/orgs/acme/actions/secrets/{name}", body.encode(), auth, method="PUT")).read()
PY
echo "== bash loop: gcloud + one Python process per write, $N_LOOP secrets"
start=$(date +%s.%N)
for i in $(seq 0 $((N_LOOP - 1))); do
  gcloud secrets versions access latest --secret "bench-$i" --project demo-project --quiet \
    | "$py" put_one.py "$url" "$BENCH_GITHUB_TOKEN" "LOOP_$i"
done
end=$(date +%s.%N)
loop=$(echo "($end - $start) * $N / $N_LOOP" | bc -l)
printf '  loop: %.2f s for %s secrets, extrapolated to %s: %.1f s\n' "$(echo "$end - $start" | bc -l)" "$N_LOOP" "$N" "$loop"

echo "== raw HTTP: the same reads and sealed PUTs, one keep-alive client per thread, 8 threads"
"$py" - "$url" "$BENCH_GITHUB_TOKEN" "$N" <<'PY'
import base64, http.client, json, sys, threading, time, urllib.parse
from nacl import encoding, public
url, token, n = urllib.parse.urlparse(sys.argv[1]), sys.argv[2], int(sys.argv[3])
auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
def client():
    return http.client.HTTPConnection(url.hostname, url.port)
def get(conn, path, headers):
    conn.request("GET", path, headers=headers); return json.loads(conn.getresponse().read())
start = time.monotonic()
conn = client()
key = get(conn, "/orgs/acme/actions/secrets/public-key", auth)
box = public.SealedBox(public.PublicKey(key["key"].encode(), encoding.Base64Encoder()))
def work(indices):
    c = client()
    for i in indices:
        data = base64.b64decode(get(c, f"/v1/projects/demo-project/secrets/bench-{i}/versions/latest:access", {})["payload"]["data"])
        body = json.dumps({"encrypted_value": base64.b64encode(box.encrypt(data)).decode(), "key_id": key["key_id"], "visibility": "private"})
        c.request("PUT", f"/orgs/acme/actions/secrets/BENCH_{i}", body, auth); c.getresponse().read()
threads = [threading.Thread(target=work, args=(range(t, n, 8),)) for t in range(8)]
for t in threads: t.start()
for t in threads: t.join()
took = time.monotonic() - start
print(f"  raw: {took:.2f} s for {n} reads + {n} PUTs")
open("raw.secs", "w").write(f"{took}")
PY
orchestra=$(cat orchestra.secs); raw=$(cat raw.secs)
printf '== loop / orchestra: %.1fx; orchestra / raw: %.2fx (goal: within 3x)\n' \
  "$(echo "$loop / $orchestra" | bc -l)" "$(echo "$orchestra / $raw" | bc -l)"
