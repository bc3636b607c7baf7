#!/usr/bin/env bash
# `orchestra scan` side by side with ripgrep (orchestra's own patterns, the floor: no
# pre-filter, entropy or placeholder checks) and detect-secrets (PyPI, pinned, default
# plugins) over one generated corpus: FILES files (default 50,000) of about 4 KiB each
# (~200 MB) of code-like text, with a planted credential every PLANT_EVERY files.
# Prints each tool's wall time, findings count and peak RSS (/usr/bin/time -v).
# Not run by the tests. BIN=path skips the release build; KEEP=1 keeps the corpus;
# DETECT_SECRETS=0 skips detect-secrets (about 60 ms a file here: 50 minutes at 50,000 files);
# DETECT_SECRETS_DIRS=N runs it on the first N folders of 500 files only and prints its
# measured time beside a projection to the whole corpus (marked as such).
set -euo pipefail
FILES="${FILES:-50000}"
PLANT_EVERY="${PLANT_EVERY:-500}"
DETECT_SECRETS_VERSION="1.5.0"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/orchestra-target}"
if [ -z "${BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --release --bin orchestra)
  BIN="$CARGO_TARGET_DIR/release/orchestra"
fi
apt_install() { # package: installed with apt-get (as root, or through sudo)
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "$1"
}
command -v rg >/dev/null || apt_install ripgrep
[ -x /usr/bin/time ] || apt_install time
VENV="${VENV:-$HOME/.cache/orchestra-detect-secrets-venv}"
if ! "$VENV/bin/detect-secrets" --version 2>/dev/null | grep -qx "$DETECT_SECRETS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "detect-secrets==$DETECT_SECRETS_VERSION"
fi

dir=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
corpus="$dir/corpus"
echo "generating $FILES files in $corpus ..." >&2
python3 - "$corpus" "$FILES" "$PLANT_EVERY" <<'PY'
import os, random, string, sys
root, files, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(17)
alnum = string.ascii_letters + string.digits
words = ("config value request response client server token_count handler retry "
         "timeout buffer parse render index cache stream secret_name password_hint "
         "user account project region bucket https://example.invalid/path").split()
def r(n, chars=alnum):
    s = "".join(rnd.choice(chars) for _ in range(n))
    return s if any(c.isdigit() for c in s) else "7" + s[1:]
# Split prefixes: this script holds nothing a scanner would call a credential.
plants = [
    lambda: 'GITHUB_TOKEN = "' + "gh" + "p_" + r(36) + '"',
    lambda: "slack: " + "xo" + "xb-" + r(11, string.digits) + "-" + r(12, string.digits) + "-" + r(24),
    lambda: "key = '" + "AI" + "za" + r(35) + "'",
    lambda: "aws_access_key_id=" + "AK" + "IA" + r(16, string.ascii_uppercase + string.digits),
    lambda: 'password = "' + r(20) + '"',
    lambda: "url: " + "https://hooks." + "slack.com/services/T" + r(9, string.ascii_uppercase + string.digits)
            + "/B" + r(9, string.ascii_uppercase + string.digits) + "/" + r(24),
]
exts = [".py", ".js", ".go", ".yaml", ".md", ".txt", ".rs", ".java"]
planted = 0
for i in range(files):
    d = os.path.join(root, f"d{i // 500:03d}")
    os.makedirs(d, exist_ok=True)
    lines, size = [], 0
    while size < 4096:
        line = " ".join(rnd.choice(words) for _ in range(rnd.randint(4, 12)))
        lines.append(line); size += len(line) + 1
    if i % every == 0:
        lines.insert(rnd.randrange(len(lines)), plants[planted % len(plants)]())
        planted += 1
    with open(os.path.join(d, f"f{i}{rnd.choice(exts)}"), "w") as f:
        f.write("\n".join(lines) + "\n")
print(f"planted {planted}", file=sys.stderr)
PY
du -sh "$corpus" >&2

# ripgrep gets the shipped rules' regexes, exactly as orchestra compiles them.
python3 - "$repo/rules/scan.toml" > "$dir/patterns" <<'PY'
import sys, tomllib
for rule in tomllib.load(open(sys.argv[1], "rb"))["rule"]:
    print(rule["regex"])
PY

measure() { # name, then the command; prints name, seconds, findings, peak RSS
  local name=$1; shift
  /usr/bin/time -v -o "$dir/$name.time" "$@" > "$dir/$name.out" 2> "$dir/$name.err" || true
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$dir/$name.time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$dir/$name.time" | awk '{print $NF}')
  echo "$name|$wall|$rss"
}
cd "$dir"
o=$(measure orchestra "$BIN" -q --state-db "$dir/state/state.db" scan --format json "$corpus")
# -U: orchestra matches whole files, so the PEM rule may span lines; rg must too.
r=$(measure rg rg --no-config -U --count-matches -f "$dir/patterns" "$corpus")
ds_dirs="${DETECT_SECRETS_DIRS:-}"
if [ "${DETECT_SECRETS:-1}" = 1 ] && [ -n "$ds_dirs" ]; then
  mkdir -p "$dir/ds-sample"
  for sub in $(ls "$corpus" | head -n "$ds_dirs"); do ln -s "$corpus/$sub" "$dir/ds-sample/$sub"; done
  (cd "$dir/ds-sample" && /usr/bin/time -v -o "$dir/detect-secrets.time" "$VENV/bin/detect-secrets" scan --all-files . > "$dir/detect-secrets.out" 2> "$dir/detect-secrets.err") || true
  wall=$(grep 'Elapsed (wall clock)' "$dir/detect-secrets.time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$dir/detect-secrets.time" | awk '{print $NF}')
  d="detect-secrets ($((ds_dirs * 500)) files)|$wall|$rss"
  projected=$(python3 -c 'import sys; p=sys.argv[1].split(":"); s=sum(float(x)*60**i for i,x in enumerate(reversed(p))); print(f"{s*int(sys.argv[2])/int(sys.argv[3]):.0f}")' "$wall" "$FILES" "$((ds_dirs * 500))")
  echo "detect-secrets on $((ds_dirs * 500)) of $FILES files took $wall; projected to all: ${projected}s" >&2
elif [ "${DETECT_SECRETS:-1}" = 1 ]; then
  d=$(measure detect-secrets "$VENV/bin/detect-secrets" scan --all-files "$corpus")
else
  d="detect-secrets|skipped|-"; echo '{"results": {}}' > "$dir/detect-secrets.out"
fi
of=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$dir/orchestra.out")
rf=$(awk -F: '{s+=$NF} END {print s+0}' "$dir/rg.out")
df=$(python3 -c 'import json,sys; print(sum(len(v) for v in json.load(open(sys.argv[1]))["results"].values()))' "$dir/detect-secrets.out")
printf '%-28s %12s %10s %14s\n' tool "wall (m:s)" findings "peak RSS (KB)"
for row in "$o|$of" "$r|$rf" "$d|$df"; do
  IFS='|' read -r name wall rss found <<< "$row"
  printf '%-28s %12s %10s %14s\n' "$name" "$wall" "$found" "$rss"
done
