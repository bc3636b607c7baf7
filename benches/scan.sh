#!/usr/bin/env bash
# `orchestra scan` side by side with ripgrep (orchestra's own patterns, the floor: no
# pre-filter, entropy or placeholder checks) and detect-secrets (PyPI, pinned, default
# plugins) over one generated corpus: FILES files (default 50,000) of about 4 KiB each
# (~200 MB) of code-like text, with a planted credential every PLANT_EVERY files.
# Prints each tool's wall time, findings count and peak RSS (/usr/bin/time -v), and the
# ratios the issue targets (orchestra at least 50x faster than detect-secrets, within 2x of rg).
# Not run by the tests.
#
#   ORCHESTRA_BIN=path (or BIN=path)  the orchestra binary; skips the release build (a debug
#                                     binary works, and the output says its figures are debug)
#   FILES=N, PLANT_EVERY=N            corpus size (default 50,000 files) and planting rate
#   KEEP=1                            keep the corpus
#   DETECT_SECRETS=0                  skip detect-secrets
#   DETECT_SECRETS_DIRS=N             run detect-secrets on the first N folders of 500 files only
#                                     and print its measured time and findings beside a
#                                     projection to the whole corpus, marked as a projection.
#                                     Default: all folders up to 5,000 files, else 4 (2,000 files):
#                                     detect-secrets takes about 60 ms a file here, 50 minutes at
#                                     50,000 files. DETECT_SECRETS_DIRS=all runs it on everything.
set -euo pipefail
FILES="${FILES:-50000}"
PLANT_EVERY="${PLANT_EVERY:-500}"
DETECT_SECRETS_VERSION="1.5.0"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/orchestra-target}"
BIN="${ORCHESTRA_BIN:-${BIN:-}}"
if [ -z "$BIN" ]; then
  (cd "$repo" && cargo build --quiet --release --bin orchestra)
  BIN="$CARGO_TARGET_DIR/release/orchestra"
fi
[ -x "$BIN" ] || { echo "scan.sh: no orchestra binary at $BIN" >&2; exit 2; }
build="release"
case "$BIN" in */debug/*) build="debug" ;; esac
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

seconds() { # m:ss.cc or h:mm:ss from /usr/bin/time, as seconds
  python3 -c 'import sys; print(sum(float(x) * 60**i for i, x in enumerate(reversed(sys.argv[1].split(":")))))' "$1"
}
measure() { # name, folder, then the command; prints name|seconds|peak RSS (KB)
  local name=$1 cwd=$2; shift 2
  (cd "$cwd" && /usr/bin/time -v -o "$dir/$name.time" "$@" > "$dir/$name.out" 2> "$dir/$name.err") || true
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$dir/$name.time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$dir/$name.time" | awk '{print $NF}')
  echo "$name|$(seconds "$wall")|$rss"
}
cd "$dir"
echo "scanning with orchestra ($build build: $BIN), rg $(rg --version | awk 'NR == 1 {print $2}'), detect-secrets $DETECT_SECRETS_VERSION ..." >&2
o=$(measure orchestra "$dir" "$BIN" -q --state-db "$dir/state/state.db" scan --no-verify --format json "$corpus")
# -U: orchestra matches whole files, so the PEM rule may span lines; rg must too.
r=$(measure rg "$dir" rg --no-config -U --count-matches -f "$dir/patterns" "$corpus")
folders=$(find "$corpus" -mindepth 1 -maxdepth 1 -type d | wc -l)
ds_dirs="${DETECT_SECRETS_DIRS:-}"
if [ -z "$ds_dirs" ]; then
  if [ "$FILES" -le 5000 ]; then ds_dirs=all; else ds_dirs=4; fi
fi
[ "$ds_dirs" = all ] || [ "$ds_dirs" -lt "$folders" ] || ds_dirs=all
ds_files=$FILES
if [ "${DETECT_SECRETS:-1}" != 1 ]; then
  d="detect-secrets|skipped|-"; echo '{"results": {}}' > "$dir/detect-secrets.out"
elif [ "$ds_dirs" = all ]; then
  d=$(measure detect-secrets "$corpus" "$VENV/bin/detect-secrets" scan --all-files .)
else
  # A sample: the first ds_dirs folders, each 500 files like the rest of the corpus, copied
  # (detect-secrets does not follow symlinked folders: a linked sample reads as empty).
  mkdir -p "$dir/ds-sample"
  for sub in $(ls "$corpus" | head -n "$ds_dirs"); do cp -R "$corpus/$sub" "$dir/ds-sample/$sub"; done
  ds_files=$(find "$dir/ds-sample" -type f | wc -l)
  d=$(measure detect-secrets "$dir/ds-sample" "$VENV/bin/detect-secrets" scan --all-files .)
  d="detect-secrets (sample)|${d#*|}"
fi
of=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$dir/orchestra.out")
rf=$(awk -F: '{s+=$NF} END {print s+0}' "$dir/rg.out")
df=$(python3 -c 'import json,sys; print(sum(len(v) for v in json.load(open(sys.argv[1]))["results"].values()))' "$dir/detect-secrets.out")
echo
echo "corpus: $FILES files, $(du -sm --apparent-size "$corpus" | cut -f1) MB (apparent size); orchestra: $build build"
printf '%-34s %10s %10s %10s %14s\n' tool files "wall (s)" findings "peak RSS (KB)"
IFS='|' read -r _ os orss <<< "$o"
IFS='|' read -r _ rs rrss <<< "$r"
printf '%-34s %10s %10.2f %10s %14s\n' orchestra "$FILES" "$os" "$of" "$orss"
printf '%-34s %10s %10.2f %10s %14s\n' "rg (orchestra's patterns)" "$FILES" "$rs" "$rf" "$rrss"
IFS='|' read -r dname ds drss <<< "$d"
if [ "$ds" = skipped ]; then
  printf '%-34s %10s %10s %10s %14s\n' detect-secrets - skipped - -
  ds_all=""
else
  printf '%-34s %10s %10.2f %10s %14s\n' "$dname" "$ds_files" "$ds" "$df" "$drss"
  ds_all=$ds
  if [ "$ds_files" != "$FILES" ]; then
    ds_all=$(python3 -c 'import sys; print(float(sys.argv[1]) * int(sys.argv[2]) / int(sys.argv[3]))' "$ds" "$FILES" "$ds_files")
    dfp=$(python3 -c 'import sys; print(round(int(sys.argv[1]) * int(sys.argv[2]) / int(sys.argv[3])))' "$df" "$FILES" "$ds_files")
    printf '%-34s %10s %10.0f %10s %14s\n' "detect-secrets PROJECTED (x$((FILES / ds_files)))" "$FILES" "$ds_all" "~$dfp" "(not measured)"
    echo "  projection: detect-secrets ran on $ds_files of the $FILES files; its time and findings are scaled linearly by $FILES/$ds_files"
  fi
fi
projected=""; [ "$ds_files" = "$FILES" ] || projected=" (detect-secrets projected)"
python3 - "$os" "$rs" "$ds_all" "$projected" <<'PY'
import sys
o, r = max(float(sys.argv[1]), 0.01), max(float(sys.argv[2]), 0.01)
print(f"orchestra took {o / r:.2f}x rg's time (target: at most 2x)")
if sys.argv[3]:
    d = float(sys.argv[3])
    print(f"orchestra was {d / o:.1f}x faster than detect-secrets{sys.argv[4]} (target: at least 50x)")
PY
[ "$build" = release ] || echo "note: a $build build of orchestra; the issue's targets are for the release build"
