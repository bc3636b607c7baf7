"""IAM key certificates and the OAuth token endpoint's checks, through clients nobody here
wrote: google-auth's own RSA verifier reads the X.509 certificate IAM serves
(publicKeyType=TYPE_X509_PEM_FILE) and checks a signature of the key file's private key with
it; google-auth's service-account and ID-token credentials meet the endpoint's scope and
audience rules (invalid_scope without a scope, invalid_grant for a wrong aud)."""

import base64
import json
import time

import google.auth.transport.requests
import pytest
import requests
from cryptography import x509
from google.auth import crypt, exceptions, jwt
from google.oauth2 import service_account

from conftest import DEPLOYER

SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def mint(emulator):
    key = emulator.post(
        f"/v1/projects/-/serviceAccounts/{DEPLOYER}/keys", {"privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE"}
    )
    return json.loads(base64.b64decode(key["privateKeyData"]))


def public_key_data(emulator, info, kind):
    answer = requests.get(
        f"{emulator.base}/v1/projects/-/serviceAccounts/{DEPLOYER}/keys/{info['private_key_id']}",
        params={"publicKeyType": kind} if kind else {},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json().get("publicKeyData")


def test_the_x509_certificate_verifies_signatures_of_the_key(emulator):
    info = mint(emulator)
    pem = base64.b64decode(public_key_data(emulator, info, "TYPE_X509_PEM_FILE"))
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.subject == cert.issuer  # self-signed
    assert cert.subject.rfc4514_string() == f"CN={DEPLOYER}"
    assert cert.not_valid_after_utc.year == 9999

    signer = crypt.RSASigner.from_service_account_info(info)
    signature = signer.sign(b"payload")
    verifier = crypt.RSAVerifier.from_string(pem)
    assert verifier.verify(b"payload", signature)
    assert not verifier.verify(b"other", signature)

    raw = base64.b64decode(public_key_data(emulator, info, "TYPE_RAW_PUBLIC_KEY"))
    assert raw.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert public_key_data(emulator, info, None) is None


def test_a_token_request_without_a_scope_is_invalid_scope(emulator):
    info = mint(emulator)
    credentials = service_account.Credentials.from_service_account_info(info)  # no scopes
    with pytest.raises(exceptions.RefreshError, match="invalid_scope"):
        credentials.refresh(google.auth.transport.requests.Request())
    scoped = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    scoped.refresh(google.auth.transport.requests.Request())
    assert scoped.token.startswith("ya29.")


def test_an_assertion_for_another_audience_is_invalid_grant(emulator):
    info = mint(emulator)
    signer = crypt.RSASigner.from_service_account_info(info)
    now = int(time.time())
    assertion = jwt.encode(
        signer,
        {"iss": DEPLOYER, "scope": SCOPE, "aud": "https://example.com/token", "iat": now, "exp": now + 600},
    )
    answer = requests.post(
        emulator.base + "/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
        timeout=30,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert "audience" in answer.json()["error_description"]


def test_an_id_token_is_issued_for_a_target_audience_without_a_scope(emulator):
    info = mint(emulator)
    credentials = service_account.IDTokenCredentials.from_service_account_info(
        info, target_audience="https://api.example.com"
    )
    credentials.refresh(google.auth.transport.requests.Request())
    claims = jwt.decode(credentials.token, verify=False)
    assert claims["aud"] == "https://api.example.com"
    assert claims["email"] == DEPLOYER
