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


def cargo_binary(variable, name):
    """$variable when set, else the debug build of `name` in $CARGO_TARGET_DIR."""
    explicit = os.environ.get(variable)
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/orchestra-target"))
    return os.path.join(target, "debug", name)


def emulator_binary():
    return cargo_binary("ORCHESTRA_EMULATOR_BIN", "orchestra-emulator")


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


def free_port():
    """A port nothing listens on now (bound to 0 and released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FirestoreEmulator:
    """The installed Firestore emulator (`gcloud emulators firestore start`) on a free port."""

    def __init__(self, host):
        self.host = host
        self.base = f"http://{host}"

    def reset(self, project):
        """Deletes every document of `project`'s (default) database (the emulator's own API)."""
        request = urllib.request.Request(
            f"{self.base}/emulator/v1/projects/{project}/databases/(default)/documents",
            method="DELETE",
        )
        with urllib.request.urlopen(request, timeout=30):
            pass


@pytest.fixture(scope="module")
def firestore_emulator():
    """One Firestore emulator per test module, started in its own process group and stopped
    by that group's id (gcloud starts java under a shell script)."""
    import signal
    import time

    port = free_port()
    host = f"127.0.0.1:{port}"
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"firestore-emulator-{port}.log"), "w+")
    process = subprocess.Popen(
        ["gcloud", "emulators", "firestore", "start", f"--host-port={host}", "--quiet"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started = False
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"the Firestore emulator exited: see {log.name}"
            try:
                with urllib.request.urlopen(f"http://{host}/", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the Firestore emulator did not answer in 120 s: see {log.name}"
            time.sleep(0.25)
        started = True
        yield FirestoreEmulator(host)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        except ProcessLookupError:
            pass
        log.close()
        if started:  # the log is kept only when the emulator did not come up
            os.unlink(log.name)
@pytest.fixture
def emulator():
    with running_emulator() as running:
        yield running
