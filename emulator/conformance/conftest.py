"""Starts the real emulator binary on a free 127.0.0.1 port for each test."""

import contextlib
import json
import os
import re
import subprocess
import urllib.request

import pytest

DEMO_TOKEN = "ghp_orchestraDemoToken0000000000000000"
PROJECT = "demo-project"
PROJECT_NUMBER = "123456789012"
DEPLOYER = "deployer@demo-project.iam.gserviceaccount.com"


def emulator_binary():
    explicit = os.environ.get("ORCHESTRA_EMULATOR_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/orchestra-target"))
    return os.path.join(target, "debug", "orchestra-emulator")


class Emulator:
    def __init__(self, base):
        self.base = base

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return json.loads(response.read())

    def post(self, path, body):
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def state(self):
        return self.get("/_emulator/state?reveal=true")


@pytest.fixture(autouse=True)
def no_regional_access_boundary_lookup(monkeypatch):
    """google-auth (2.5x+) looks up a service account's "regional access boundary" at
    iamcredentials.googleapis.com in a background thread after each token refresh. Tests talk
    only to 127.0.0.1, so the lookup is switched off (the emulator does not serve it)."""
    try:
        from google.auth import credentials
    except ImportError:
        return
    boundary = getattr(credentials, "CredentialsWithRegionalAccessBoundary", None)
    if boundary is not None and hasattr(boundary, "_is_regional_access_boundary_lookup_required"):
        monkeypatch.setattr(boundary, "_is_regional_access_boundary_lookup_required", lambda self: False)


@contextlib.contextmanager
def running_emulator(*args):
    """The emulator binary started with `args` on a free port; stopped by its pid after."""
    process = subprocess.Popen(
        [emulator_binary(), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, f"emulator did not start: {line!r}"
        yield Emulator(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def emulator():
    with running_emulator() as running:
        yield running
