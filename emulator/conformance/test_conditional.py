"""Conditional requests as GitHub answers them: an ETag on every successful GET, 304 Not
Modified (with the same ETag, no body) when If-None-Match names it, and no primary rate limit
spent on a 304 to an authenticated request. Through PyGithub's own `update()` and plain
`requests`."""

import time

import requests
from github import Auth, Github

from conftest import DEMO_TOKEN

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


def remaining(emulator):
    # /rate_limit is free, so reading it changes nothing.
    return requests.get(emulator.base + "/rate_limit", headers=AUTH, timeout=30).json()["resources"]["core"]["remaining"]


def test_a_304_comes_back_with_the_etag_and_costs_nothing(emulator):
    first = requests.get(emulator.base + "/user", headers=AUTH, timeout=30)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    left = remaining(emulator)
    again = requests.get(emulator.base + "/user", headers={**AUTH, "If-None-Match": etag}, timeout=30)
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.content == b""
    assert again.headers["x-ratelimit-remaining"] == str(left)
    assert remaining(emulator) == left
    # The strong spelling of the same tag matches too (GitHub compares weakly).
    strong = requests.get(emulator.base + "/user", headers={**AUTH, "If-None-Match": etag[2:]}, timeout=30)
    assert strong.status_code == 304


def test_a_stale_etag_gets_the_full_answer_and_counts(emulator):
    left = remaining(emulator)
    answer = requests.get(emulator.base + "/user", headers={**AUTH, "If-None-Match": 'W/"stale"'}, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["login"] == "demo-user"
    assert remaining(emulator) == left - 1


def test_pygithub_update_sees_an_unchanged_secret_then_a_changed_one(emulator):
    github = Github(base_url=emulator.base, auth=Auth.Token(DEMO_TOKEN), retry=None)
    repo = github.get_repo("acme/api")
    repo.create_secret("POLLED", "first value")
    secret = repo.get_secret("POLLED")
    assert secret.etag and secret.last_modified
    left = remaining(emulator)
    assert secret.update() is False, "an unchanged secret was not answered 304"
    assert remaining(emulator) == left
    time.sleep(1.1)  # updated_at has one-second resolution
    repo.create_secret("POLLED", "second value")
    assert secret.update() is True
    assert repo.update() is False
