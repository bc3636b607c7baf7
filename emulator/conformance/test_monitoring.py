"""google-api-python-client (Google's discovery-based REST client; enums sent as names) reads
the emulator's Vertex AI token counts: grouped and summed per model and type across pages, raw
points newest first, no `timeSeries` when nothing matches, and a bad filter as a 400.

(google-cloud-monitoring, the GAPIC package, offers only gRPC transports for MetricService, so
it cannot speak to a REST endpoint.)"""

import httplib2
import pytest
from googleapiclient import discovery, errors

from conftest import PROJECT

METRIC = "aiplatform.googleapis.com/publisher/online_serving/token_count"
USAGE = [
    ("gemini-2.5-pro", "input", 1000, "2026-03-10T12:00:00Z"),
    ("gemini-2.5-pro", "input", 500, "2026-03-12T12:00:00Z"),
    ("gemini-2.5-pro", "output", 70, "2026-03-12T12:00:00Z"),
    ("gemini-2.5-flash", "input", 9000, "2026-03-11T12:00:00Z"),
]
MARCH = {"interval_startTime": "2026-03-01T00:00:00Z", "interval_endTime": "2026-03-31T00:00:00Z"}


def time_series(emulator):
    service = discovery.build(
        "monitoring",
        "v3",
        http=httplib2.Http(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.base + "/"},
    )
    return service.projects().timeSeries()


def march(emulator):
    emulator.post("/_emulator/monitoring/usage", {"clear": True})
    for model, kind, tokens, at in USAGE:
        emulator.post(
            "/_emulator/monitoring/usage",
            {"model": model, "type": kind, "tokens": tokens, "at": at},
        )


def test_grouped_token_counts_are_summed_per_model_and_type_across_pages(emulator):
    march(emulator)
    totals = {}
    pages = 0
    token = None
    while True:
        # Pages by hand: the client's list_next refuses a query with a repeated key
        # (aggregation.groupByFields).
        answer = (
            time_series(emulator)
            .list(
                name=f"projects/{PROJECT}",
                filter=f'metric.type = "{METRIC}"',
                aggregation_alignmentPeriod="2592000s",
                aggregation_perSeriesAligner="ALIGN_SUM",
                aggregation_crossSeriesReducer="REDUCE_SUM",
                aggregation_groupByFields=["resource.label.model_user_id", "metric.label.type"],
                pageSize=1,
                pageToken=token,
                **MARCH,
            )
            .execute()
        )
        pages += 1
        for series in answer.get("timeSeries", []):
            key = (series["resource"]["labels"]["model_user_id"], series["metric"]["labels"]["type"])
            totals[key] = sum(int(p["value"]["int64Value"]) for p in series["points"])
        token = answer.get("nextPageToken")
        if not token:
            break
    assert pages == 3
    assert totals == {
        ("gemini-2.5-pro", "input"): 1500,
        ("gemini-2.5-pro", "output"): 70,
        ("gemini-2.5-flash", "input"): 9000,
    }


def test_raw_points_come_newest_first_with_their_interval(emulator):
    march(emulator)
    answer = (
        time_series(emulator)
        .list(
            name=f"projects/{PROJECT}",
            filter=f'metric.type = "{METRIC}" AND metric.label.type = "input" '
            'AND resource.label.model_user_id = "gemini-2.5-pro"',
            **MARCH,
        )
        .execute()
    )
    (series,) = answer["timeSeries"]
    assert series["metricKind"] == "DELTA"
    assert [p["value"]["int64Value"] for p in series["points"]] == ["500", "1000"]
    assert series["points"][0]["interval"]["endTime"] == "2026-03-12T12:00:00Z"


def test_nothing_matching_has_no_time_series_key(emulator):
    march(emulator)
    answer = (
        time_series(emulator)
        .list(
            name=f"projects/{PROJECT}",
            filter=f'metric.type = "{METRIC}"',
            interval_startTime="2026-03-20T00:00:00Z",
            interval_endTime="2026-03-31T00:00:00Z",
        )
        .execute()
    )
    assert "timeSeries" not in answer


def test_a_bad_filter_is_a_400_invalid_argument(emulator):
    with pytest.raises(errors.HttpError) as raised:
        time_series(emulator).list(
            name=f"projects/{PROJECT}", filter="metric.type = unquoted", **MARCH
        ).execute()
    assert raised.value.resp.status == 400
    assert b"INVALID_ARGUMENT" in raised.value.content
