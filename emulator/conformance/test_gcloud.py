"""gcloud with api_endpoint_overrides: secrets and service-account keys against the emulator."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import DEPLOYER, PROJECT

pytestmark = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")


@pytest.fixture
def gcloud(emulator, tmp_path):
    env = dict(os.environ, CLOUDSDK_CONFIG=str(tmp_path / "gcloud"), CLOUDSDK_CORE_DISABLE_PROMPTS="1")

    def run(*args, stdin=None):
        result = subprocess.run(
            ["gcloud", *args, "--project", PROJECT, "--quiet"],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    for api in ["secretmanager", "iam"]:
        subprocess.run(
            ["gcloud", "config", "set", f"api_endpoint_overrides/{api}", emulator.base + "/"],
            env=env, check=True, capture_output=True,
        )
    subprocess.run(["gcloud", "config", "set", "auth/disable_credentials", "true"], env=env, check=True, capture_output=True)
    return run


def test_gcloud_secrets(gcloud):
    gcloud("secrets", "create", "from-gcloud", "--replication-policy=automatic", "--labels=team=ops")
    gcloud("secrets", "versions", "add", "from-gcloud", "--data-file=-", stdin="s3cr3t")
    assert gcloud("secrets", "versions", "access", "latest", "--secret", "from-gcloud") == "s3cr3t"
    listed = json.loads(gcloud("secrets", "list", "--format=json"))
    assert [s["name"].rsplit("/", 1)[-1] for s in listed] == ["from-gcloud", "vertex-budget"]


def test_gcloud_service_account_keys(gcloud, tmp_path):
    key_file = tmp_path / "key.json"
    gcloud("iam", "service-accounts", "keys", "create", str(key_file), "--iam-account", DEPLOYER)
    info = json.loads(key_file.read_text())
    assert info["client_email"] == DEPLOYER
    keys = json.loads(gcloud("iam", "service-accounts", "keys", "list", "--iam-account", DEPLOYER, "--format=json"))
    assert info["private_key_id"] in [k["name"].rsplit("/", 1)[-1] for k in keys]
