"""google-cloud-secret-manager over REST: create, add version, access latest and an alias,
disable, list with paging."""

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager
from google.protobuf import field_mask_pb2

from conftest import PROJECT, PROJECT_NUMBER


def client(emulator):
    return secretmanager.SecretManagerServiceClient(
        transport="rest",
        client_options={"api_endpoint": emulator.base},
        credentials=AnonymousCredentials(),
    )


def test_versions_aliases_disable_and_paging(emulator):
    sm = client(emulator)
    parent = f"projects/{PROJECT}"
    secret = sm.create_secret(
        request={"parent": parent, "secret_id": "py-secret", "secret": {"replication": {"automatic": {}}}}
    )
    assert secret.name == f"projects/{PROJECT_NUMBER}/secrets/py-secret"
    name = f"{parent}/secrets/py-secret"
    first = sm.add_secret_version(request={"parent": name, "payload": {"data": b"one"}})
    sm.add_secret_version(request={"parent": name, "payload": {"data": b"two"}})
    assert first.name.endswith("/versions/1")

    latest = sm.access_secret_version(request={"name": f"{name}/versions/latest"})
    assert latest.payload.data == b"two"
    assert latest.name.endswith("/versions/2")

    sm.update_secret(
        request={
            "secret": {"name": name, "version_aliases": {"current": 1}},
            "update_mask": field_mask_pb2.FieldMask(paths=["version_aliases"]),
        }
    )
    assert sm.access_secret_version(request={"name": f"{name}/versions/current"}).payload.data == b"one"

    disabled = sm.disable_secret_version(request={"name": f"{name}/versions/2"})
    assert disabled.state == secretmanager.SecretVersion.State.DISABLED
    # google.api_core maps errors by HTTP status: FAILED_PRECONDITION is a 400.
    with pytest.raises(exceptions.BadRequest, match="is in DISABLED state"):
        sm.access_secret_version(request={"name": f"{name}/versions/latest"})

    for extra in ["py-a", "py-b"]:
        sm.create_secret(request={"parent": parent, "secret_id": extra, "secret": {"replication": {"automatic": {}}}})
    pager = sm.list_secrets(request={"parent": parent, "page_size": 1})
    names = [s.name.rsplit("/", 1)[-1] for s in pager]
    assert sorted(names) == ["py-a", "py-b", "py-secret", "vertex-budget"]  # the demo budget is seeded


def test_not_found_maps_to_the_client_exception(emulator):
    with pytest.raises(exceptions.NotFound):
        client(emulator).access_secret_version(request={"name": f"projects/{PROJECT}/secrets/nope/versions/latest"})
