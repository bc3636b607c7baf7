"""gcloud authenticated with an access token the emulator issued (auth/access_token_file), and
the rest of the key and version life cycle: disable, enable, delete; versions disable and list."""

import base64
import json
import os
import shutil
import subprocess

import google.auth.transport.requests
import pytest
from google.oauth2 import service_account

from conftest import DEPLOYER, PROJECT

pytestmark = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")


@pytest.fixture
def gcloud(emulator, tmp_path):
    key = emulator.post(f"/v1/projects/-/serviceAccounts/{DEPLOYER}/keys", {})
    info = json.loads(base64.b64decode(key["privateKeyData"]))
    credentials = service_account.Credentials.from_service_account_info(
        info, scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    credentials.refresh(google.auth.transport.requests.Request())
    token_file = tmp_path / "token"
    token_file.write_text(credentials.token)
    env = dict(
        os.environ,
        CLOUDSDK_CONFIG=str(tmp_path / "gcloud"),
        CLOUDSDK_CORE_DISABLE_PROMPTS="1",
        CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER=emulator.base + "/",
        CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM=emulator.base + "/",
        CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=str(token_file),
    )

    def run(*args, stdin=None, ok=True):
        result = subprocess.run(
            ["gcloud", *args, "--project", PROJECT, "--quiet"],
            env=env, input=stdin, capture_output=True, text=True, timeout=120,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


def test_gcloud_with_an_issued_token_walks_a_key_through_its_life(gcloud, tmp_path):
    key_file = tmp_path / "new.json"
    gcloud("iam", "service-accounts", "keys", "create", str(key_file), "--iam-account", DEPLOYER)
    key_id = json.loads(key_file.read_text())["private_key_id"]

    def listed():
        out = gcloud("iam", "service-accounts", "keys", "list", "--iam-account", DEPLOYER, "--format=json").stdout
        return {k["name"].rsplit("/", 1)[-1]: k.get("disabled", False) for k in json.loads(out)}

    assert listed()[key_id] is False
    gcloud("iam", "service-accounts", "keys", "disable", key_id, "--iam-account", DEPLOYER)
    assert listed()[key_id] is True
    gcloud("iam", "service-accounts", "keys", "enable", key_id, "--iam-account", DEPLOYER)
    assert listed()[key_id] is False
    gcloud("iam", "service-accounts", "keys", "delete", key_id, "--iam-account", DEPLOYER)
    assert key_id not in listed()


def test_gcloud_disables_a_version_and_lists_versions(gcloud):
    gcloud("secrets", "create", "life", "--replication-policy=automatic")
    gcloud("secrets", "versions", "add", "life", "--data-file=-", stdin="one")
    gcloud("secrets", "versions", "add", "life", "--data-file=-", stdin="two")
    gcloud("secrets", "versions", "disable", "2", "--secret", "life")
    refused = gcloud("secrets", "versions", "access", "latest", "--secret", "life", ok=False)
    assert refused.returncode != 0
    assert "DISABLED" in refused.stderr
    assert gcloud("secrets", "versions", "access", "1", "--secret", "life").stdout == "one"
    versions = json.loads(gcloud("secrets", "versions", "list", "life", "--format=json").stdout)
    assert {v["name"].rsplit("/", 1)[-1]: v["state"] for v in versions} == {"1": "ENABLED", "2": "DISABLED"}


def test_gcloud_with_a_wrong_token_is_refused(gcloud, tmp_path):
    (tmp_path / "token").write_text("ya29.not-issued-here")
    refused = gcloud("secrets", "list", ok=False)
    assert refused.returncode != 0
    assert "401" in refused.stderr or "UNAUTHENTICATED" in refused.stderr or "invalid authentication" in refused.stderr
