"""PyNaCl seals a value to the repository key; the emulator opens and stores it."""

import base64
import json
import urllib.request

from nacl import encoding, public

from conftest import DEMO_TOKEN


def call(emulator, method, path, body=None):
    request = urllib.request.Request(
        emulator.base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"authorization": f"token {DEMO_TOKEN}", "content-type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def test_a_pynacl_sealed_box_opens_in_the_emulator(emulator):
    _, body = call(emulator, "GET", "/repos/acme/api/environments/production/secrets/public-key")
    key = json.loads(body)
    sealed = public.SealedBox(public.PublicKey(key["key"].encode(), encoding.Base64Encoder())).encrypt(
        b"sealed by PyNaCl"
    )
    status, _ = call(
        emulator,
        "PUT",
        "/repos/acme/api/environments/production/secrets/NACL_SECRET",
        {"encrypted_value": base64.b64encode(sealed).decode(), "key_id": key["key_id"]},
    )
    assert status == 201
    stored = emulator.state()["github"]["repos"]["acme/api"]["environments"]["production"]["secrets"]["NACL_SECRET"]
    assert base64.b64decode(stored["value"]) == b"sealed by PyNaCl"
