"""google-auth's external_account credentials, configured the way google-github-actions/auth
writes them, obtain a service-account token through a Workload Identity provider created with
the emulator's REST API: the GitHub Actions ID token (minted by the emulator's OIDC issuer)
goes to the emulator's STS, the federated token to its IAM Credentials generateAccessToken."""

import json
import urllib.parse

import pytest
from google.auth import exceptions, identity_pool
from google.auth.transport.requests import Request

from conftest import DEPLOYER, PROJECT, PROJECT_NUMBER

POOL = f"projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools/github-actions"
PROVIDER = f"{POOL}/providers/github"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def operation_done(emulator, answer):
    """Polls a long-running operation as a client does; its response."""
    name = answer["name"]
    polled = emulator.get(f"/v1/{name}")
    assert polled["done"] is True
    return polled["response"]


@pytest.fixture
def keyless(emulator):
    """A pool, an OIDC provider for acme's repositories, acme/api bound on the deployer, and the
    IAM Credentials API enabled, each through the emulator's REST API."""
    parent = f"/v1/projects/{PROJECT}/locations/global/workloadIdentityPools"
    pool = operation_done(emulator, emulator.post(f"{parent}?workloadIdentityPoolId=github-actions", {"displayName": "GitHub"}))
    assert pool["name"] == POOL
    provider = operation_done(emulator, emulator.post(
        f"{parent}/github-actions/providers?workloadIdentityPoolProviderId=github",
        {
            "attributeMapping": {"google.subject": "assertion.sub", "attribute.repository": "assertion.repository"},
            "attributeCondition": "assertion.repository_owner == 'acme'",
            "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"},
        },
    ))
    assert provider["name"] == PROVIDER
    return trust_acme_api(emulator)


def trust_acme_api(emulator):
    """Binds acme/api's principal set on the deployer and enables the IAM Credentials API."""
    policy = emulator.post(f"/v1/projects/-/serviceAccounts/{DEPLOYER}:getIamPolicy", {})
    member = f"principalSet://iam.googleapis.com/{POOL}/attribute.repository/acme/api"
    policy["bindings"] = [{"role": "roles/iam.workloadIdentityUser", "members": [member]}]
    emulator.post(f"/v1/projects/-/serviceAccounts/{DEPLOYER}:setIamPolicy", {"policy": policy})
    emulator.post(f"/v1/projects/{PROJECT}/services/iamcredentials.googleapis.com:enable", {})
    return emulator


def mint_url(emulator, repo):
    """The ID-token URL of a workflow run of `repo`, as ACTIONS_ID_TOKEN_REQUEST_URL."""
    audience = f"https://iam.googleapis.com/{PROVIDER}"
    query = urllib.parse.urlencode({"repository": repo, "audience": audience})
    return f"{emulator.base}/_emulator/github/oidc/token?{query}"


def credentials(emulator, credential_source):
    info = {
        "type": "external_account",
        "audience": f"//iam.googleapis.com/{PROVIDER}",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{emulator.base}/v1/token",
        "service_account_impersonation_url": f"{emulator.base}/v1/projects/-/serviceAccounts/{DEPLOYER}:generateAccessToken",
        "credential_source": credential_source,
    }
    return identity_pool.Credentials.from_info(info, scopes=[SCOPE])


def workflow_credentials(emulator, repo):
    """Credentials reading a workflow run of `repo`'s ID token from the URL source."""
    return credentials(emulator, {
        "url": mint_url(emulator, repo),
        "format": {"type": "json", "subject_token_field_name": "value"},
    })


def test_a_token_file_of_the_bound_repository_gets_a_service_account_token(keyless, tmp_path):
    token_file = tmp_path / "github-oidc-token"
    minted = urllib.parse.urlparse(mint_url(keyless, "acme/api"))
    token_file.write_text(keyless.get(f"{minted.path}?{minted.query}")["value"])
    creds = credentials(keyless, {"file": str(token_file)})
    creds.refresh(Request())
    assert creds.token.startswith("ya29.c.")
    assert creds.service_account_email == DEPLOYER


def test_the_url_source_the_auth_action_writes_works_too(keyless):
    creds = credentials(keyless, {
        "url": mint_url(keyless, "acme/api"),
        "headers": {"Authorization": "Bearer runtime-token"},
        "format": {"type": "json", "subject_token_field_name": "value"},
    })
    creds.refresh(Request())
    assert creds.token.startswith("ya29.c.")


def test_another_repository_of_the_owner_is_refused_at_impersonation(keyless):
    creds = workflow_credentials(keyless, "acme/web")
    with pytest.raises(exceptions.RefreshError) as refused:
        creds.refresh(Request())
    assert "iam.serviceAccounts.getAccessToken" in str(refused.value)


def test_another_owner_is_refused_by_the_attribute_condition(keyless):
    creds = workflow_credentials(keyless, "evil/api")
    with pytest.raises(exceptions.OAuthError) as refused:
        creds.refresh(Request())
    assert "unauthorized_client" in str(refused.value)
    assert "attribute condition" in str(refused.value)
