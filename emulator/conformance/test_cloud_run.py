"""Cloud Run and Service Usage through clients nobody here wrote: google-cloud-run (Admin API
v2 over REST), `gcloud run services describe` (the Knative v1 view at the regional endpoint) and
`gcloud services list`, each before and after a change made by hand through the emulator's
control surface."""

import json
import os
import shutil
import subprocess
from urllib.parse import urlparse

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2

from conftest import DEPLOYER, PROJECT, PROJECT_NUMBER

REGION = "europe-west1"
SERVICE = f"projects/{PROJECT}/locations/{REGION}/services/api"


def run_client(emulator):
    return run_v2.ServicesClient(
        transport="rest",
        client_options={"api_endpoint": emulator.base},
        credentials=AnonymousCredentials(),
    )


def change(emulator, method, path, body):
    """A hand change through /_emulator/google/run/services/PROJECT/REGION/NAME."""
    import urllib.request

    request = urllib.request.Request(
        f"{emulator.base}/_emulator/google/run/services/{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
        return json.load(answer)


def test_google_cloud_run_reads_the_demo_service(emulator):
    service = run_client(emulator).get_service(name=SERVICE)
    assert service.name == SERVICE
    assert service.terminal_condition.type_ == "Ready"
    assert service.terminal_condition.state == run_v2.Condition.State.CONDITION_SUCCEEDED
    assert not service.reconciling
    container = service.template.containers[0]
    assert dict(container.resources.limits) == {"cpu": "1", "memory": "512Mi"}
    assert container.ports[0].container_port == 8080
    assert (service.template.scaling.min_instance_count, service.template.scaling.max_instance_count) == (1, 10)
    assert service.template.max_instance_request_concurrency == 80
    assert service.template.service_account == DEPLOYER
    assert service.generation == 1 and service.observed_generation == 1
    assert service.uri == f"{emulator.base}/run.app/{PROJECT}/{REGION}/api"
    assert service.latest_ready_revision == service.latest_created_revision
    assert service.etag.startswith('"')
    assert [c.type_ for c in service.conditions] == ["RoutesReady", "ConfigurationsReady"]


def test_google_cloud_run_sees_a_failed_change_and_lists_every_region(emulator):
    change(emulator, "PATCH", f"{PROJECT}/{REGION}/api",
           {"cpu": "2", "ready": False, "reason": "CONTAINER_MISSING", "message": "Image not found"})
    change(emulator, "PUT", f"{PROJECT}/us-central1/worker", {"min_instances": 0, "max_instances": 3})
    client = run_client(emulator)
    service = client.get_service(name=SERVICE)
    assert service.generation == 2
    assert service.template.containers[0].resources.limits["cpu"] == "2"
    assert service.terminal_condition.state == run_v2.Condition.State.CONDITION_FAILED
    assert service.terminal_condition.reason == run_v2.Condition.CommonReason.CONTAINER_MISSING
    assert service.terminal_condition.message == "Image not found"
    assert service.latest_ready_revision == ""

    listed = client.list_services(request={"parent": f"projects/{PROJECT}/locations/-", "page_size": 1})
    assert [s.name.rsplit("/", 1)[-1] for s in listed] == ["api", "worker"]
    only = list(client.list_services(parent=f"projects/{PROJECT}/locations/us-central1"))
    assert [s.template.scaling.max_instance_count for s in only] == [3]

    with pytest.raises(exceptions.NotFound):
        client.get_service(name=f"projects/{PROJECT}/locations/{REGION}/services/nosuch")
    with pytest.raises(exceptions.Forbidden):  # google.api_core maps by HTTP status
        client.get_service(name=f"projects/nobody/locations/{REGION}/services/api")


@pytest.fixture
def gcloud(emulator, tmp_path):
    """gcloud with the emulator as its Cloud Run and Service Usage endpoints. gcloud's
    `run` commands put the region in front of the endpoint's host (`europe-west1-HOST`),
    which no resolver knows for a loopback address, so gcloud is also told to use the
    emulator as its HTTP proxy: every request, whatever its host, reaches the emulator."""
    if shutil.which("gcloud") is None:
        pytest.skip("gcloud is not installed")
    port = str(urlparse(emulator.base).port)
    env = dict(os.environ, CLOUDSDK_CONFIG=str(tmp_path / "gcloud"), CLOUDSDK_CORE_DISABLE_PROMPTS="1")
    for key, value in [
        ("auth/disable_credentials", "true"),
        ("api_endpoint_overrides/run", f"http://localhost:{port}/"),
        ("api_endpoint_overrides/serviceusage", emulator.base + "/"),
        ("proxy/type", "http"),
        ("proxy/address", "127.0.0.1"),
        ("proxy/port", port),
    ]:
        subprocess.run(["gcloud", "config", "set", key, value], env=env, check=True, capture_output=True)

    def run(*args):
        result = subprocess.run(
            ["gcloud", *args, "--project", PROJECT, "--quiet", "--format=json"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return run


def test_gcloud_run_services_describe_before_and_after_a_hand_change(gcloud, emulator):
    described = gcloud("run", "services", "describe", "api", "--region", REGION)
    assert described["metadata"]["name"] == "api"
    assert described["metadata"]["namespace"] == str(PROJECT_NUMBER)
    assert described["metadata"]["labels"]["cloud.googleapis.com/location"] == REGION
    template = described["spec"]["template"]
    assert template["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    assert template["spec"]["containerConcurrency"] == 80
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/maxScale"] == "10"
    ready = {c["type"]: c["status"] for c in described["status"]["conditions"]}
    assert ready["Ready"] == "True"
    assert described["status"]["url"].endswith(f"/run.app/{PROJECT}/{REGION}/api")

    change(emulator, "PATCH", f"{PROJECT}/{REGION}/api", {"memory": "1Gi", "ready": False})
    after = gcloud("run", "services", "describe", "api", "--region", REGION)
    assert after["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"
    failed = next(c for c in after["status"]["conditions"] if c["type"] == "Ready")
    assert failed["status"] == "False"
    assert failed["reason"] == "REVISION_FAILED"
    assert "is not ready and cannot serve traffic" in failed["message"]


def test_gcloud_services_list_shows_what_was_enabled(gcloud, emulator):
    assert gcloud("services", "list") == []
    for service in ["run.googleapis.com", "iamcredentials.googleapis.com"]:
        emulator.post(f"/v1/projects/{PROJECT}/services/{service}:enable", {})
    listed = gcloud("services", "list")
    assert [s["config"]["name"] for s in listed] == ["iamcredentials.googleapis.com", "run.googleapis.com"]
    assert {s["state"] for s in listed} == {"ENABLED"}
    assert listed[1]["config"]["title"] == "Cloud Run Admin API"
