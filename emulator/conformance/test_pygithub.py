"""PyGithub against the emulator: rate limit, repository secrets list/create/delete."""

import base64

from github import Auth, Github

from conftest import DEMO_TOKEN


def client(emulator):
    return Github(base_url=emulator.base, auth=Auth.Token(DEMO_TOKEN), retry=None)


def test_rate_limit(emulator):
    limits = client(emulator).get_rate_limit()
    assert limits.resources.core.limit == 5000
    assert limits.resources.core.remaining <= 5000


def test_repo_secrets_list_create_delete(emulator):
    repo = client(emulator).get_repo("acme/api")
    names = sorted(s.name for s in repo.get_secrets())
    assert names == ["DATABASE_URL", "DEPLOY_KEY"]

    repo.create_secret("PYGITHUB_SECRET", "made by PyGithub")
    stored = emulator.state()["github"]["repos"]["acme/api"]["secrets"]["secrets"]["PYGITHUB_SECRET"]
    assert base64.b64decode(stored["value"]) == b"made by PyGithub"
    assert "PYGITHUB_SECRET" in [s.name for s in repo.get_secrets()]

    assert repo.delete_secret("PYGITHUB_SECRET")
    assert "PYGITHUB_SECRET" not in [s.name for s in repo.get_secrets()]


def test_the_api_v3_prefix_works_too(emulator):
    gh = Github(base_url=emulator.base + "/api/v3", auth=Auth.Token(DEMO_TOKEN), retry=None)
    assert gh.get_user().login == "demo-user"
