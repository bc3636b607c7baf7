"""PyGithub beyond the basics: its exceptions for GitHub's errors, environment and organisation
secrets, and a GitHub App minting an installation token."""

import base64

import pytest
from github import Auth, BadCredentialsException, Github, GithubException, GithubIntegration
from github import RateLimitExceededException

from conftest import DEMO_TOKEN


def client(emulator, token=DEMO_TOKEN):
    return Github(base_url=emulator.base, auth=Auth.Token(token), retry=None)


def test_a_wrong_token_is_bad_credentials(emulator):
    with pytest.raises(BadCredentialsException):
        client(emulator, "ghp_wrong").get_user().login


def test_an_exhausted_primary_limit_is_a_rate_limit_exception(emulator):
    emulator.post("/_emulator/github/rate-limit", {"token": DEMO_TOKEN, "remaining": 0})
    with pytest.raises(RateLimitExceededException) as raised:
        client(emulator).get_user().login
    assert raised.value.headers["x-ratelimit-remaining"] == "0"


def test_a_secondary_limit_fault_is_a_rate_limit_exception_with_retry_after(emulator):
    emulator.post("/_emulator/faults", {"path": "/user", "status": 403, "retry_after": 7, "count": 1})
    with pytest.raises(RateLimitExceededException) as raised:
        client(emulator).get_user().login
    assert raised.value.headers["retry-after"] == "7"
    assert client(emulator).get_user().login == "demo-user"


def test_environment_secret_is_sealed_and_stored(emulator):
    environment = client(emulator).get_repo("acme/api").get_environment("production")
    environment.create_secret("ENV_FROM_PYGITHUB", "env value")
    stored = emulator.state()["github"]["repos"]["acme/api"]["environments"]["production"]["secrets"]
    assert base64.b64decode(stored["ENV_FROM_PYGITHUB"]["value"]) == b"env value"
    assert "ENV_FROM_PYGITHUB" in [s.name for s in environment.get_secrets()]


def test_organisation_secret_carries_its_visibility(emulator):
    org = client(emulator).get_organization("acme")
    org.create_secret("ORG_FROM_PYGITHUB", "org value", visibility="all")
    stored = emulator.state()["github"]["orgs"]["acme"]["secrets"]["secrets"]["ORG_FROM_PYGITHUB"]
    assert base64.b64decode(stored["value"]) == b"org value"
    assert stored["visibility"] == "all"
    assert [s.visibility for s in org.get_secrets() if s.name == "ORG_FROM_PYGITHUB"] == ["all"]


def test_an_app_installation_token_reads_the_repository_secrets(emulator):
    demo = emulator.get("/_emulator/demo")
    app = Auth.AppAuth(demo["app_id"], demo["app_private_key"])
    integration = GithubIntegration(auth=app, base_url=emulator.base)
    token = integration.get_access_token(demo["installation_id"])
    assert token.token.startswith("ghs_")
    installed = Github(base_url=emulator.base, auth=app.get_installation_auth(demo["installation_id"]), retry=None)
    names = sorted(s.name for s in installed.get_repo("acme/api").get_secrets())
    assert names == ["DATABASE_URL", "DEPLOY_KEY"]
    with pytest.raises(GithubException) as raised:
        installed.get_user().login
    assert raised.value.status == 403


def test_organisation_secret_for_selected_repositories(emulator):
    gh = client(emulator)
    org = gh.get_organization("acme")
    repo = gh.get_repo("acme/api")
    secret = org.create_secret("ORG_SELECTED", "only api", visibility="selected", selected_repositories=[repo])
    stored = emulator.state()["github"]["orgs"]["acme"]["secrets"]["secrets"]["ORG_SELECTED"]
    assert stored["visibility"] == "selected"
    assert stored["selected_repository_ids"] == [repo.id]
    assert [r.full_name for r in secret.selected_repositories] == ["acme/api"]
