"""/api/v3/trace-summaries: what Jaeger UI >= 2.19 searches with, in Jaeger's FindTraceSummaries JSON."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from tests.builders import SpanSpec

SECOND = 1_000_000_000
EPOCH_WINDOW = {"query.startTimeMin": "1970-01-01T00:00:00Z", "query.startTimeMax": "2100-01-01T00:00:00Z"}


def summaries(api, **params) -> list[dict]:
    response = api.get("/api/v3/trace-summaries", **{**EPOCH_WINDOW, **params})
    assert response.status_code == 200, response.json
    return response.json.get("summaries", [])


def test_a_summary_has_the_shape_of_jaegers_snapshot(api):
    # The trace behind jaeger's apiv3/snapshots/FindTraceSummaries.json: two frontend spans, one failed.
    root = SpanSpec(
        "frontend", "HTTP GET /", trace_id=(1).to_bytes(16, "big"), start_ns=1000 * SECOND, duration_ns=SECOND
    )
    failed = root.child("frontend", "db", status_code=Status.STATUS_CODE_ERROR)
    api.store(root, failed)

    response = api.get("/api/v3/trace-summaries", **EPOCH_WINDOW)

    assert response.json == {
        "summaries": [
            {
                "errorSpanCount": 1,
                "maxEndTimeUnixNano": "1001000000000",
                "minStartTimeUnixNano": "1000000000000",
                "rootOperationName": "HTTP GET /",
                "rootServiceName": "frontend",
                "services": [{"errorSpanCount": 1, "name": "frontend", "spanCount": 2}],
                "spanCount": 2,
                "traceId": "00000000000000000000000000000001",
            }
        ]
    }


def test_no_match_answers_no_summaries_not_an_error(api):
    response = api.get("/api/v3/trace-summaries", **EPOCH_WINDOW)

    assert (response.status_code, response.json) == (200, {})


def test_summaries_cover_every_service_of_the_trace(api):
    root = SpanSpec("frontend", "dispatch")
    api.store(root, root.child("driver", "find"), root.child("driver", "find"))

    [summary] = summaries(api, **{"query.serviceName": "driver"})

    assert (summary["rootServiceName"], summary["spanCount"]) == ("frontend", 3)
    assert summary["services"] == [{"name": "driver", "spanCount": 2}, {"name": "frontend", "spanCount": 1}]


@pytest.mark.parametrize(
    "names",
    [
        ("query.serviceName", "query.operationName", "query.durationMin", "query.searchDepth"),
        ("query.service_name", "query.operation_name", "query.duration_min", "query.search_depth"),
    ],
)
def test_camel_case_and_snake_case_parameters_filter_alike(api, names):
    service, operation, duration_min, depth = names
    slow = [SpanSpec("driver", "find", duration_ns=50_000_000, start_ns=i * SECOND) for i in range(1, 4)]
    api.store(*slow, SpanSpec("driver", "find", duration_ns=1_000_000), SpanSpec("driver", "other"))

    found = summaries(api, **{service: "driver", operation: "find", duration_min: "10ms", depth: "2"})

    assert [s["traceId"] for s in found] == [slow[2].trace_id.hex(), slow[1].trace_id.hex()]


def test_attributes_narrow_the_summaries(api):
    wanted = SpanSpec("driver", "find", attributes={"driver.id": "T7"})
    api.store(wanted, SpanSpec("driver", "find", attributes={"driver.id": "T8"}))

    found = summaries(api, **{"query.attributes": json.dumps({"driver.id": "T7"})})

    assert [s["traceId"] for s in found] == [wanted.trace_id.hex()]


def test_the_time_window_is_required(api):
    response = api.get("/api/v3/trace-summaries")

    assert response.status_code == 400
    assert "query.start_time_min and query.start_time_max are required" in response.json["error"]["message"]
