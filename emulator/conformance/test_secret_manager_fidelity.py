"""Secret Manager answers as the real service does, checked through google-cloud-secret-manager
(REST) and plain `requests`: the code of an etag mismatch, label and secret-id validation, how
names are echoed, OR filters, TTL and expireTime, and regional secrets in their own namespace."""

import datetime

import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager
from google.protobuf import duration_pb2, field_mask_pb2

from conftest import PROJECT, PROJECT_NUMBER

AUTOMATIC = {"replication": {"automatic": {}}}


def client(emulator):
    return secretmanager.SecretManagerServiceClient(
        transport="rest",
        client_options={"api_endpoint": emulator.base},
        credentials=AnonymousCredentials(),
    )


def create(sm, secret_id, parent=f"projects/{PROJECT}", **fields):
    body = dict(AUTOMATIC, **fields) if "locations" not in parent else fields
    return sm.create_secret(request={"parent": parent, "secret_id": secret_id, "secret": body})


def test_a_stale_etag_is_failed_precondition_on_update_delete_and_version_changes(emulator):
    """Secret Manager's etag page: a mismatch fails with FAILED_PRECONDITION and HTTP 400."""
    sm = client(emulator)
    secret = create(sm, "guarded")
    name = f"projects/{PROJECT}/secrets/guarded"
    version = sm.add_secret_version(request={"parent": name, "payload": {"data": b"v1"}})
    stale = '"0000000000000"'

    with pytest.raises(exceptions.BadRequest, match="etag") as raised:
        sm.update_secret(
            request={
                "secret": {"name": name, "labels": {"a": "b"}, "etag": stale},
                "update_mask": field_mask_pb2.FieldMask(paths=["labels"]),
            }
        )
    assert raised.value.code == 400
    with pytest.raises(exceptions.BadRequest, match="etag"):
        sm.disable_secret_version(request={"name": version.name, "etag": stale})
    with pytest.raises(exceptions.BadRequest, match="etag"):
        sm.destroy_secret_version(request={"name": version.name, "etag": stale})
    with pytest.raises(exceptions.BadRequest, match="etag"):
        sm.delete_secret(request={"name": name, "etag": stale})

    raw = requests.delete(f"{emulator.base}/v1/{name}", params={"etag": stale}, timeout=30)
    assert raw.status_code == 400
    assert raw.json()["error"]["status"] == "FAILED_PRECONDITION"

    # The current etag goes through, and each change gives a new one.
    updated = sm.update_secret(
        request={
            "secret": {"name": name, "labels": {"a": "b"}, "etag": secret.etag},
            "update_mask": field_mask_pb2.FieldMask(paths=["labels"]),
        }
    )
    assert updated.etag != secret.etag
    disabled = sm.disable_secret_version(request={"name": version.name, "etag": version.etag})
    assert disabled.state == secretmanager.SecretVersion.State.DISABLED
    sm.delete_secret(request={"name": name, "etag": updated.etag})


@pytest.mark.parametrize(
    "labels",
    [{"Team": "x"}, {"1st": "x"}, {"team": "Payments"}, {"k" * 64: "v"}, {"team": "v" * 64}, {"a.b": "c"}],
)
def test_labels_outside_the_documented_rules_are_invalid_argument(emulator, labels):
    with pytest.raises(exceptions.BadRequest, match="label"):
        create(client(emulator), "labelled", labels=labels)
    raw = requests.post(
        f"{emulator.base}/v1/projects/{PROJECT}/secrets",
        params={"secretId": "labelled"},
        json=dict(AUTOMATIC, labels=labels),
        timeout=30,
    )
    assert raw.status_code == 400 and raw.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_labels_within_the_rules_are_kept(emulator):
    labels = {"managed-by": "orchestra", "env_1": "", "ключ": "значение", "k" * 63: "v" * 63}
    assert dict(create(client(emulator), "labelled", labels=labels).labels) == labels
    too_many = {f"k{i}": "" for i in range(65)}
    with pytest.raises(exceptions.BadRequest):
        create(client(emulator), "crowded", labels=too_many)


@pytest.mark.parametrize("secret_id", ["bad.name", "a b", "ü", "x" * 256, ""])
def test_secret_ids_outside_the_pattern_get_productions_message(emulator, secret_id):
    raw = requests.post(
        f"{emulator.base}/v1/projects/{PROJECT}/secrets",
        params={"secretId": secret_id},
        json=AUTOMATIC,
        timeout=30,
    )
    assert raw.status_code == 400
    error = raw.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == (
        f"The provided Secret ID [{secret_id}] does not match the expected format [[a-zA-Z_0-9]+]"
    )


def test_names_are_echoed_by_project_number_and_ids_are_case_sensitive(emulator):
    sm = client(emulator)
    longest = "A-_9" + "z" * 251
    assert create(sm, longest).name == f"projects/{PROJECT_NUMBER}/secrets/{longest}"
    create(sm, "Token")
    create(sm, "token")
    by_number = sm.get_secret(request={"name": f"projects/{PROJECT_NUMBER}/secrets/Token"})
    assert by_number.name == f"projects/{PROJECT_NUMBER}/secrets/Token"
    with pytest.raises(exceptions.BadRequest, match="expected format"):
        sm.get_secret(request={"name": f"projects/{PROJECT}/secrets/not.valid"})


def test_list_filters_take_or_and_and_parentheses(emulator):
    sm = client(emulator)
    create(sm, "api-token", labels={"team": "payments"})
    create(sm, "db-password", labels={"team": "search"})
    create(sm, "cache-key", labels={"team": "search", "tier": "gold"})

    def ids(text):
        listed = sm.list_secrets(request={"parent": f"projects/{PROJECT}", "filter": text})
        return sorted(s.name.rsplit("/", 1)[-1] for s in listed)

    assert ids("labels.team=payments OR name:db") == ["api-token", "db-password"]
    assert ids("labels.team=search AND (name:cache OR labels.tier=gold)") == ["cache-key"]
    assert ids("labels.team=search AND NOT labels.tier:*") == ["db-password"]
    with pytest.raises(exceptions.BadRequest, match="filter"):
        ids("(labels.team=search")


def test_a_ttl_sets_expire_time_and_the_secret_goes_when_it_passes(emulator):
    sm = client(emulator)
    secret = create(sm, "short-lived", ttl=duration_pb2.Duration(seconds=3600))
    expires = secret.expire_time
    created = secret.create_time
    assert 3590 <= (expires - created).total_seconds() <= 3610

    # Update the expiration to a fixed time, then move the calendar past it.
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    updated = sm.update_secret(
        request={
            "secret": {"name": f"projects/{PROJECT}/secrets/short-lived", "expire_time": at},
            "update_mask": field_mask_pb2.FieldMask(paths=["expire_time"]),
        }
    )
    assert abs((updated.expire_time - at).total_seconds()) < 1
    emulator.post("/_emulator/clock", {"advance_secs": 86400})
    assert sm.get_secret(request={"name": f"projects/{PROJECT}/secrets/short-lived"}).name
    emulator.post("/_emulator/clock", {"advance_secs": 2 * 86400})
    with pytest.raises(exceptions.NotFound):
        sm.get_secret(request={"name": f"projects/{PROJECT}/secrets/short-lived"})

    with pytest.raises(exceptions.BadRequest):
        create(sm, "past", expire_time=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))


def test_regional_secrets_are_their_own_namespace(emulator):
    sm = client(emulator)
    regional_parent = f"projects/{PROJECT}/locations/us-east1"
    regional = create(sm, "shared-name", parent=regional_parent)
    assert regional.name == f"projects/{PROJECT_NUMBER}/locations/us-east1/secrets/shared-name"
    with pytest.raises(exceptions.NotFound):
        sm.get_secret(request={"name": f"projects/{PROJECT}/secrets/shared-name"})
    create(sm, "shared-name")  # the global one is a different secret

    name = f"{regional_parent}/secrets/shared-name"
    version = sm.add_secret_version(request={"parent": name, "payload": {"data": b"regional"}})
    assert version.name == f"projects/{PROJECT_NUMBER}/locations/us-east1/secrets/shared-name/versions/1"
    assert sm.access_secret_version(request={"name": f"{name}/versions/latest"}).payload.data == b"regional"

    regional_ids = [s.name for s in sm.list_secrets(request={"parent": regional_parent})]
    assert regional_ids == [regional.name]
    global_ids = [s.name.rsplit("/", 1)[-1] for s in sm.list_secrets(request={"parent": f"projects/{PROJECT}"})]
    assert "shared-name" in global_ids
    assert not any("locations" in n for n in global_ids)
    other_region = list(sm.list_secrets(request={"parent": f"projects/{PROJECT}/locations/europe-west4"}))
    assert other_region == []
