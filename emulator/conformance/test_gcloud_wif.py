"""gcloud's Workload Identity pool commands (create / describe / list / delete / undelete and the
OIDC provider's create-oidc / describe / list / update-oidc) against the emulator through
api_endpoint_overrides/iam, and a provider gcloud created then serving google-auth's
external_account exchange. gcloud is a client nobody here wrote: where it disagrees with the
emulator, the emulator is wrong."""

import json
import os
import shutil
import subprocess

import pytest
from google.auth import exceptions
from google.auth.transport.requests import Request

from conftest import DEPLOYER, PROJECT
from test_wif import POOL, PROVIDER, trust_acme_api, workflow_credentials

pytestmark = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")

MAPPING = "google.subject=assertion.sub,attribute.repository=assertion.repository"
ISSUER = "https://token.actions.githubusercontent.com"


@pytest.fixture
def gcloud(emulator, tmp_path):
    """`gcloud ARGS --project PROJECT --format=json`: its parsed output, or with ok=False its
    stderr after asserting that it failed."""
    env = dict(os.environ, CLOUDSDK_CONFIG=str(tmp_path / "gcloud"), CLOUDSDK_CORE_DISABLE_PROMPTS="1")
    subprocess.run(
        ["gcloud", "config", "set", "api_endpoint_overrides/iam", emulator.base + "/"],
        env=env, check=True, capture_output=True,
    )
    subprocess.run(["gcloud", "config", "set", "auth/disable_credentials", "true"], env=env, check=True, capture_output=True)

    def run(*args, ok=True):
        result = subprocess.run(
            ["gcloud", *args, "--project", PROJECT, "--quiet", "--format=json"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        if ok:
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout) if result.stdout.strip() else None
        assert result.returncode != 0, result.stdout
        return result.stderr

    return run


def pools(gcloud, *args):
    return gcloud("iam", "workload-identity-pools", *args, "--location=global")


def providers(gcloud, *args):
    return gcloud("iam", "workload-identity-pools", "providers", *args, "--location=global", "--workload-identity-pool=github-actions")


def create_pool_and_provider(gcloud):
    pools(gcloud, "create", "github-actions", "--display-name=GitHub Actions", "--description=CI")
    providers(
        gcloud, "create-oidc", "github",
        f"--issuer-uri={ISSUER}",
        f"--attribute-mapping={MAPPING}",
        "--attribute-condition=assertion.repository_owner == 'acme'",
    )


def test_a_pool_is_created_described_listed_deleted_and_undeleted(gcloud):
    pools(gcloud, "create", "github-actions", "--display-name=GitHub Actions", "--description=CI")
    described = pools(gcloud, "describe", "github-actions")
    assert described["name"] == POOL
    assert (described["displayName"], described["description"], described["state"]) == ("GitHub Actions", "CI", "ACTIVE")
    assert [p["name"] for p in pools(gcloud, "list")] == [POOL]

    pools(gcloud, "delete", "github-actions")
    deleted = pools(gcloud, "describe", "github-actions")
    assert deleted["state"] == "DELETED"
    assert deleted["expireTime"] > "2000"
    assert pools(gcloud, "list") == []
    assert [p["name"] for p in pools(gcloud, "list", "--show-deleted")] == [POOL]

    pools(gcloud, "undelete", "github-actions")
    restored = pools(gcloud, "describe", "github-actions")
    assert restored["state"] == "ACTIVE" and "expireTime" not in restored


def test_creating_a_pool_twice_is_refused_as_already_existing(gcloud):
    pools(gcloud, "create", "github-actions")
    refused = gcloud("iam", "workload-identity-pools", "create", "github-actions", "--location=global", ok=False)
    assert "ALREADY_EXISTS" in refused or "already exists" in refused


def test_an_oidc_provider_is_created_described_listed_and_updated(gcloud):
    create_pool_and_provider(gcloud)
    described = providers(gcloud, "describe", "github")
    assert described["name"] == PROVIDER
    assert described["oidc"]["issuerUri"] == ISSUER
    assert described["attributeMapping"] == {
        "google.subject": "assertion.sub",
        "attribute.repository": "assertion.repository",
    }
    assert described["attributeCondition"] == "assertion.repository_owner == 'acme'"
    assert described["state"] == "ACTIVE"
    assert [p["name"] for p in providers(gcloud, "list")] == [PROVIDER]

    providers(gcloud, "update-oidc", "github", "--attribute-condition=assertion.repository == 'acme/api'")
    updated = providers(gcloud, "describe", "github")
    assert updated["attributeCondition"] == "assertion.repository == 'acme/api'"
    assert updated["attributeMapping"] == described["attributeMapping"]
    assert updated["oidc"]["issuerUri"] == ISSUER


def test_a_provider_without_an_attribute_condition_is_refused(gcloud):
    pools(gcloud, "create", "github-actions")
    refused = gcloud(
        "iam", "workload-identity-pools", "providers", "create-oidc", "github",
        "--location=global", "--workload-identity-pool=github-actions",
        f"--issuer-uri={ISSUER}", f"--attribute-mapping={MAPPING}",
        ok=False,
    )
    assert "INVALID_ARGUMENT" in refused or "attribute condition" in refused
    assert providers(gcloud, "list") == []


def test_a_provider_gcloud_created_serves_the_external_account_exchange(gcloud, emulator):
    create_pool_and_provider(gcloud)
    trust_acme_api(emulator)
    creds = workflow_credentials(emulator, "acme/api")
    creds.refresh(Request())
    assert creds.token.startswith("ya29.c.")
    assert creds.service_account_email == DEPLOYER

    providers(gcloud, "update-oidc", "github", "--attribute-condition=assertion.repository_owner == 'other'")
    refused = workflow_credentials(emulator, "acme/api")
    with pytest.raises(exceptions.OAuthError) as error:
        refused.refresh(Request())
    assert "attribute condition" in str(error.value)
