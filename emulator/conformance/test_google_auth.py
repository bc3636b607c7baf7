"""google-auth obtains a token from the emulator with a key file the emulator minted, and is
refused once the key is disabled."""

import base64
import json

import google.auth.transport.requests
import pytest
from google.auth import exceptions
from google.oauth2 import service_account

from conftest import DEPLOYER


def test_a_minted_key_file_gets_a_token_until_disabled(emulator):
    key = emulator.post(f"/v1/projects/-/serviceAccounts/{DEPLOYER}/keys", {"privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE"})
    info = json.loads(base64.b64decode(key["privateKeyData"]))
    assert info["token_uri"] == emulator.base + "/token"
    credentials = service_account.Credentials.from_service_account_info(
        info, scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    request = google.auth.transport.requests.Request()
    credentials.refresh(request)
    assert credentials.token.startswith("ya29.")

    emulator.post(f"/v1/projects/demo-project/serviceAccounts/{DEPLOYER}/keys/{info['private_key_id']}:disable", {})
    again = service_account.Credentials.from_service_account_info(
        info, scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    with pytest.raises(exceptions.RefreshError):
        again.refresh(request)
