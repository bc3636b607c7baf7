#!/usr/bin/env bash
# Runs the emulator's conformance tests with clients nobody here wrote (PyGithub, PyNaCl,
# google-cloud-secret-manager, google-cloud-run, google-auth, google-api-python-client for
# Monitoring, gcloud, google-cloud-firestore against the installed Firestore emulator with the
# orchestra binary).
#
# usage: emulator/conformance/run.sh [VENV_DIR] [pytest args...]
#   VENV_DIR (a first argument that is neither an option nor a .py file) defaults to
#   $ORCHESTRA_CONFORMANCE_VENV or ~/.cache/orchestra-conformance-venv;
#   it is created (python3 -m venv + pip install -r requirements.txt) when missing or when
#   requirements.txt changed since it was made.
# The emulator binary comes from $ORCHESTRA_EMULATOR_BIN, default
# $CARGO_TARGET_DIR/debug/orchestra-emulator (CARGO_TARGET_DIR defaults to
# ~/.cache/orchestra-target, as scripts/test has it); build it
# first with `cargo build -p orchestra-emulator`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${ORCHESTRA_CONFORMANCE_VENV:-$HOME/.cache/orchestra-conformance-venv}"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ] && [ "${1%.py}" = "$1" ]; then
    venv="$1"
    shift
fi

stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "conformance: preparing venv at $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi

export ORCHESTRA_EMULATOR_BIN="${ORCHESTRA_EMULATOR_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/orchestra-target}/debug/orchestra-emulator}"
if [ ! -x "$ORCHESTRA_EMULATOR_BIN" ]; then
    echo "conformance: no emulator binary at $ORCHESTRA_EMULATOR_BIN (build it with cargo build -p orchestra-emulator)" >&2
    exit 1
fi
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
