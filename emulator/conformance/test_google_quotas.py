"""Google's quota refusal as production sends it: 429 RESOURCE_EXHAUSTED with an ErrorInfo
(reason RATE_LIMIT_EXCEEDED, domain googleapis.com, quota metadata), parsed by google-api-core
into the fields its own code reads; and Secret Manager's soft per-secret limit counted, or
enforced with --google-soft-limits enforce."""

import pytest
import requests
from google.api_core import exceptions
from google.api_core import retry as retries
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

from conftest import PROJECT, PROJECT_NUMBER, running_emulator


def add(base, secret, data="eA=="):
    return requests.post(
        f"{base}/v1/projects/{PROJECT}/secrets/{secret}:addVersion",
        json={"payload": {"data": data}},
        timeout=30,
    )


def make_secret(base, secret):
    answer = requests.post(
        f"{base}/v1/projects/{PROJECT}/secrets",
        params={"secretId": secret},
        json={"replication": {"automatic": {}}},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def test_a_burst_on_one_secret_is_refused_with_googles_error_info():
    with running_emulator("--google-soft-limits", "enforce") as emulator:
        make_secret(emulator.base, "hot")
        answers = [add(emulator.base, "hot") for _ in range(6)]
        refused = [a for a in answers if a.status_code == 429]
        assert refused, [a.status_code for a in answers]
        error = refused[0].json()["error"]
        assert error["code"] == 429 and error["status"] == "RESOURCE_EXHAUSTED"
        assert error["message"].startswith("Quota exceeded for quota metric ")
        assert error["message"].endswith(f"for consumer 'project_number:{PROJECT_NUMBER}'.")
        info = error["details"][0]
        assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
        assert info["reason"] == "RATE_LIMIT_EXCEEDED" and info["domain"] == "googleapis.com"
        meta = info["metadata"]
        assert meta["consumer"] == f"projects/{PROJECT_NUMBER}"
        assert meta["service"] == "secretmanager.googleapis.com"
        assert meta["quota_limit"] == "ModifyRequestsPerSecondPerSecret"
        assert meta["quota_limit_value"] == "2"
        assert meta["quota_metric"] == "secretmanager.googleapis.com/secret_modify_requests"

        # The official client sees the same thing through google-api-core's own parsing.
        sm = secretmanager.SecretManagerServiceClient(
            transport="rest",
            client_options={"api_endpoint": emulator.base},
            credentials=AnonymousCredentials(),
        )
        with pytest.raises(exceptions.TooManyRequests) as raised:
            for _ in range(6):
                sm.add_secret_version(
                    request={"parent": f"projects/{PROJECT}/secrets/hot", "payload": {"data": b"x"}},
                    retry=retries.Retry(predicate=lambda e: False),
                )
        assert raised.value.reason == "RATE_LIMIT_EXCEEDED"
        assert raised.value.domain == "googleapis.com"
        assert raised.value.metadata["quota_limit_value"] == "2"

        counts = emulator.get("/_emulator/google/quotas")
        assert counts["refused_total"] >= 2
        assert counts["refused"]["secretmanager.googleapis.com/secret_modify_requests"] >= 2


def test_by_default_the_soft_limit_is_counted_not_refused(emulator):
    make_secret(emulator.base, "warm")
    assert all(add(emulator.base, "warm").status_code == 200 for _ in range(4))
    counts = emulator.get("/_emulator/google/quotas")
    assert counts["refused_total"] == 0
    assert counts["soft_exceeded"]["ModifyRequestsPerSecondPerSecret"] >= 1
    assert counts["admitted"]["secretmanager.googleapis.com/write_requests"] == 5


def test_limits_off_counts_nothing():
    with running_emulator("--limits", "off", "--google-soft-limits", "enforce") as emulator:
        make_secret(emulator.base, "cold")
        assert all(add(emulator.base, "cold").status_code == 200 for _ in range(6))
        assert emulator.get("/_emulator/google/quotas")["refused_total"] == 0
