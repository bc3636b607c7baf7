"""Firestore conformance with google-cloud-firestore (a client nobody here wrote): documents
orchestra writes read back with the same types, and the reverse, against one real Firestore
emulator (started here on a free port, stopped by its process group)."""

import datetime
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from google.cloud import firestore

PROJECT = "conf-project"


def _launcher():
    explicit = os.environ.get("ORCHESTRA_FIRESTORE_EMULATOR")
    if explicit:
        return [explicit, "start"]
    gcloud = shutil.which("gcloud")
    if gcloud:
        sdk = os.path.dirname(os.path.dirname(os.path.realpath(gcloud)))
        launcher = os.path.join(sdk, "platform/cloud-firestore-emulator/cloud_firestore_emulator")
        if os.path.exists(launcher):
            return [launcher, "start"]
    pytest.skip("no Firestore emulator installed (scripts/test installs it)")


@pytest.fixture(scope="module")
def firestore_host():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        _launcher() + ["--host=127.0.0.1", f"--port={port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                os.killpg(proc.pid, signal.SIGKILL)
                raise RuntimeError("the Firestore emulator did not start")
            time.sleep(0.2)
    yield f"127.0.0.1:{port}"
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


def _orchestra():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/orchestra-target"))
    return os.environ.get("ORCHESTRA_BIN", os.path.join(target, "debug", "orchestra"))


def _play(host, source):
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "playbooks"))
        with open(os.path.join(d, "orchestra.toml"), "w") as f:
            f.write(f'[gcp]\nproject = "{PROJECT}"\n[scope]\nfirestore_databases = ["{PROJECT}"]\n')
        with open(os.path.join(d, "playbooks", "p.rhai"), "w") as f:
            f.write(source)
        env = dict(os.environ, FIRESTORE_EMULATOR_HOST=host, NO_COLOR="1")
        out = subprocess.run([_orchestra(), "play", "p"], cwd=d, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout


def _client(host):
    os.environ["FIRESTORE_EMULATOR_HOST"] = host
    return firestore.Client(project=PROJECT)


def test_python_reads_what_orchestra_wrote(firestore_host):
    _play(firestore_host, """
firestore::set("conf/from_orchestra", #{ n: 42, x: 1.5, whole: 2.0, s: "é", b: true, none: (),
  at: firestore::timestamp("2026-03-01T12:00:00.123456Z"), bytes: blob(2, 9),
  list: [1, "two", #{ three: 3 }], map: #{ deep: #{ k: "v" } } });
""")
    doc = _client(firestore_host).collection("conf").document("from_orchestra").get().to_dict()
    assert doc["n"] == 42 and type(doc["n"]) is int
    assert doc["x"] == 1.5 and type(doc["whole"]) is float
    assert doc["s"] == "é" and doc["b"] is True and doc["none"] is None
    assert doc["at"] == datetime.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)
    assert doc["bytes"] == b"\x09\x09"
    assert doc["list"] == [1, "two", {"three": 3}]
    assert doc["map"] == {"deep": {"k": "v"}}


def test_orchestra_reads_what_python_wrote(firestore_host):
    _client(firestore_host).collection("conf").document("from_python").set({
        "n": 7, "x": 2.0, "s": "text", "b": False, "none": None,
        "at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "bytes": b"\x00\x01\x02", "list": ["a", 1], "map": {"k": {"deeper": True}},
    })
    out = _play(firestore_host, """
let d = firestore::get("conf/from_python");
print(`${type_of(d.n)} ${d.n} ${type_of(d.x)} ${d.s} ${d.b} ${type_of(d.none)} ${type_of(d.at)} ${d.at} ${type_of(d.bytes)} ${d.bytes.len()} ${d.list} ${d.map.k.deeper}`);
""")
    assert 'i64 7 f64 text false () Timestamp 2026-01-02T03:04:05Z blob 3 ["a", 1] true' in out, out
