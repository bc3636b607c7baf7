"""`orchestra scan --format sarif` validated against the SARIF 2.1.0 JSON schema
(sarif-2.1.0-rtm.5.json, the OASIS final schema as shipped, MIT-licensed, in the npm package
@microsoft/jest-sarif 1.0.0-beta.0; put into ~/.cache/orchestra-sarif-schema by
scripts/install-sarif-schema, which scripts/test runs; not vendored, never fetched here)
with python-jsonschema, over a tree the test generates with one planted credential per kind
and a history finding (which carries a commit property)."""

import json
import os
import pathlib
import subprocess

import jsonschema
import pytest

from conftest import emulator_binary

SCHEMA_DIR = pathlib.Path(
    os.environ.get("ORCHESTRA_SARIF_SCHEMA_DIR")
    or os.path.expanduser("~/.cache/orchestra-sarif-schema")
)
SCHEMA = SCHEMA_DIR / "sarif-2.1.0-rtm.5.json"


def sarif_schema():
    if not SCHEMA.exists():
        pytest.fail(
            f"no SARIF 2.1.0 schema at {SCHEMA}: run scripts/install-sarif-schema "
            "(scripts/test runs it before the conformance tests)"
        )
    return json.loads(SCHEMA.read_text())


def orchestra_binary():
    return os.path.join(os.path.dirname(emulator_binary()), "orchestra")


def planted(tmp_path):
    hexes = os.urandom(20).hex()
    files = {
        ".env": "GITHUB_TOKEN=ghp_" + hexes + "\n",
        "deploy.sh": "export AWS_ACCESS_KEY_ID=AKIA" + os.urandom(8).hex().upper() + "\n",
        "app.yaml": "webhook: https://hooks.slack.com/services/T" + "A1B2C3D4E5" + "/B" + "F6G7H8J9K0" + "/" + os.urandom(12).hex() + "\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return files


def scan(tmp_path, *args):
    answer = subprocess.run(
        [orchestra_binary(), "scan", *args, "--format", "sarif", "--no-verify", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert answer.returncode == 1, answer.stderr
    return json.loads(answer.stdout)


def test_tree_findings_are_valid_sarif(tmp_path):
    if not os.path.exists(orchestra_binary()):
        pytest.skip("no orchestra binary beside the emulator's")
    planted(tmp_path)
    log = scan(tmp_path)
    jsonschema.validate(log, sarif_schema())
    assert len(log["runs"][0]["results"]) == 3


def test_history_findings_are_valid_sarif(tmp_path):
    if not os.path.exists(orchestra_binary()):
        pytest.skip("no orchestra binary beside the emulator's")
    files = planted(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(git + ["init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(git + ["add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(git + ["commit", "-qm", "add"], cwd=tmp_path, check=True)
    log = scan(tmp_path, "--history")
    jsonschema.validate(log, sarif_schema())
    results = log["runs"][0]["results"]
    assert len(results) == len(files)
    assert all(len(r["properties"]["commit"]) == 40 for r in results)
    text = json.dumps(log)
    for value in files.values():
        assert value.split("=", 1)[-1].split(": ", 1)[-1].strip() not in text
