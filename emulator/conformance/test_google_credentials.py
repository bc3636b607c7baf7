"""Google credentials the emulator must judge: a GAPIC client signing its own JWTs with a key the
emulator minted, an access token from the token endpoint used over plain REST, and a wrong token
refused with Google's 401 (google.api_core maps errors by HTTP status: 401 is `Unauthorized`)."""

import base64
import json

import google.auth.transport.requests
import requests
import pytest
from google.api_core import exceptions
from google.cloud import secretmanager
from google.oauth2 import service_account

from conftest import DEPLOYER, PROJECT

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def minted_key(emulator):
    key = emulator.post(f"/v1/projects/-/serviceAccounts/{DEPLOYER}/keys", {"privateKeyType": 2})
    return key, json.loads(base64.b64decode(key["privateKeyData"]))


def test_a_gapic_client_with_a_minted_key_signs_jwts_the_emulator_accepts(emulator):
    key, info = minted_key(emulator)
    credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    sm = secretmanager.SecretManagerServiceClient(
        transport="rest", client_options={"api_endpoint": emulator.base}, credentials=credentials
    )
    sm.create_secret(request={"parent": f"projects/{PROJECT}", "secret_id": "signed", "secret": {"replication": {"automatic": {}}}})
    listed = [s.name.rsplit("/", 1)[-1] for s in sm.list_secrets(request={"parent": f"projects/{PROJECT}"})]
    assert listed == ["signed", "vertex-budget"]  # the demo's budget secret is seeded

    emulator.post(f"/v1/{key['name']}:disable", {})
    fresh = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    refused = secretmanager.SecretManagerServiceClient(
        transport="rest", client_options={"api_endpoint": emulator.base}, credentials=fresh
    )
    with pytest.raises(exceptions.Unauthorized):
        refused.get_secret(request={"name": f"projects/{PROJECT}/secrets/signed"})


def test_an_access_token_from_the_token_endpoint_works_over_rest(emulator):
    _, info = minted_key(emulator)
    credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    session = google.auth.transport.requests.AuthorizedSession(credentials)
    response = session.get(f"{emulator.base}/v1/projects/{PROJECT}/secrets")
    assert response.status_code == 200, response.text
    assert credentials.token.startswith("ya29.")
    assert emulator.post("/_emulator/verify", {"access_token": credentials.token})["works"] is True


def test_a_wrong_token_gets_googles_401(emulator):
    response = requests.get(
        f"{emulator.base}/v1/projects/{PROJECT}/secrets",
        headers={"authorization": "Bearer ya29.not-issued-here"},
        timeout=30,
    )
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    error = exceptions.from_http_response(response)
    assert isinstance(error, exceptions.Unauthorized)
