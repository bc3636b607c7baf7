"""What PyGithub users call before they act: a workflow by its file name (and then by the
numeric id PyGithub's dispatch URL carries), and a GitHub App's installation on a repository,
an organisation or a user, answered as GitHub's REST reference describes them."""

import pytest
from github import Auth, Github, GithubException, GithubIntegration, UnknownObjectException

from conftest import DEMO_TOKEN


def client(emulator):
    return Github(base_url=emulator.base, auth=Auth.Token(DEMO_TOKEN), retry=None)


def integration(emulator):
    demo = emulator.get("/_emulator/demo")
    return demo, GithubIntegration(auth=Auth.AppAuth(demo["app_id"], demo["app_private_key"]), base_url=emulator.base)


def test_a_workflow_is_found_by_its_file_name_and_by_its_id(emulator):
    repo = client(emulator).get_repo("acme/api")
    workflow = repo.get_workflow("deploy.yml")
    assert workflow.path == ".github/workflows/deploy.yml"
    assert workflow.state == "active"
    assert isinstance(workflow.id, int)
    assert repo.get_workflow(workflow.id).path == workflow.path


def test_a_missing_workflow_is_404(emulator):
    with pytest.raises(UnknownObjectException):
        client(emulator).get_repo("acme/api").get_workflow("missing.yml")


def test_a_dispatch_through_the_workflow_object_is_recorded(emulator):
    # PyGithub dispatches to .../workflows/{numeric id}/dispatches, not to the file name.
    workflow = client(emulator).get_repo("acme/api").get_workflow("deploy.yml")
    assert workflow.create_dispatch("main", {"reason": "conformance"}) is True
    dispatch = emulator.state()["github"]["dispatches"][-1]
    assert (dispatch["workflow"], dispatch["ref"]) == ("deploy.yml", "main")
    assert dispatch["inputs"] == {"reason": "conformance"}


def test_the_apps_installation_is_found_by_repository_organisation_and_user(emulator):
    demo, gi = integration(emulator)
    by_repo = gi.get_repo_installation("acme", "api")
    assert by_repo.id == demo["installation_id"]
    assert gi.get_org_installation("acme").id == demo["installation_id"]
    assert gi.get_user_installation("acme").id == demo["installation_id"]


def test_an_installation_where_the_app_is_not_installed_is_404(emulator):
    _, gi = integration(emulator)
    with pytest.raises(UnknownObjectException):
        gi.get_repo_installation("acme", "no-such-repo")
    with pytest.raises(UnknownObjectException):
        gi.get_org_installation("elsewhere")


def test_a_personal_token_cannot_ask_for_an_installation(emulator):
    import requests

    answer = requests.get(
        emulator.base + "/repos/acme/api/installation",
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        timeout=30,
    )
    assert answer.status_code == 401
    assert "JSON web token" in answer.json()["message"]
