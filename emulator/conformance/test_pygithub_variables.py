"""Repository Actions variables through PyGithub: create, read (the value is in the clear, and
the name comes back in upper case), list, edit, delete, and GitHub's 409 on a second create."""

import pytest
from github import Auth, Github, GithubException, UnknownObjectException

from conftest import DEMO_TOKEN


def repo(emulator):
    return Github(base_url=emulator.base, auth=Auth.Token(DEMO_TOKEN), retry=None).get_repo("acme/api")


def test_a_variable_is_created_read_listed_edited_and_deleted(emulator):
    r = repo(emulator)
    r.create_variable("deploy_region", "europe-west1")
    variable = r.get_variable("DEPLOY_REGION")
    assert (variable.name, variable.value) == ("DEPLOY_REGION", "europe-west1")
    assert [v.name for v in r.get_variables()] == ["DEPLOY_REGION"]
    assert variable.edit("us-central1") is True
    assert r.get_variable("deploy_region").value == "us-central1"
    assert r.delete_variable("DEPLOY_REGION") is True
    with pytest.raises(UnknownObjectException):
        r.get_variable("DEPLOY_REGION").value


def test_a_second_create_of_the_same_name_is_409(emulator):
    r = repo(emulator)
    r.create_variable("ONCE", "1")
    with pytest.raises(GithubException) as raised:
        r.create_variable("once", "2")
    assert raised.value.status == 409
