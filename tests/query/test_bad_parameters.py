"""Bad input gets 400 (or 404/405) in Jaeger's error envelope, served as JSON: never a 500."""

from __future__ import annotations

import pytest

from tests.builders import SpanSpec
from tests.query.conftest import error_envelope

BAD_REQUESTS = [
    ("/api/traces", "parameter 'service' is required"),
    ("/api/traces?service=a&limit=ten", "unable to parse param 'limit': 'ten' is not an integer"),
    ("/api/traces?service=a&limit=1.5", "unable to parse param 'limit': '1.5' is not an integer"),
    ("/api/traces?service=a&limit=0", "invalid parameter: limit must be greater than 0"),
    ("/api/traces?service=a&limit=-3", "invalid parameter: limit must be greater than 0"),
    ("/api/traces?service=a&limit=100000", "invalid parameter: limit must be at most 1500"),
    ("/api/traces?service=a&start=yesterday", "unable to parse param 'start': 'yesterday' is not an integer"),
    ("/api/traces?service=a&end=1_000", "unable to parse param 'end': '1_000' is not an integer"),
    ("/api/traces?service=a&start=2000&end=1000", "invalid parameter: start time must be before end time"),
    ("/api/traces?service=a&lookback=forever", "unable to parse param 'lookback': 'forever' is not a duration"),
    ("/api/traces?service=a&minDuration=1x", "unable to parse param 'minDuration': '1x' is not a duration"),
    ("/api/traces?service=a&maxDuration=fast", "unable to parse param 'maxDuration': 'fast' is not a duration"),
    ("/api/traces?service=a&minDuration=-1s", "unable to parse param 'minDuration': '-1s' is negative"),
    ("/api/traces?service=a&minDuration=2s&maxDuration=1s", "'maxDuration' should be greater than 'minDuration'"),
    ("/api/traces?service=a&tag=nocolon", "malformed 'tag' parameter, expecting key:value, received: nocolon"),
    ("/api/traces?service=a&tags=%7Bbroken", "malformed 'tags' parameter, cannot unmarshal JSON"),
    ("/api/traces?service=a&tags=%7B%22k%22%3A%5B1%5D%7D", "malformed 'tags' parameter: the value of 'k' must be"),
    ("/api/traces?service=a&tags=k%3D%22unterminated", "malformed 'tags' parameter, expecting a JSON object or logfmt"),
    ("/api/traces?traceID=xyz", "unable to parse param 'traceID': 'xyz' is not a trace id of 1 to 32 hex digits"),
    ("/api/traces?traceID=" + "a" * 33, "unable to parse param 'traceID': '" + "a" * 33 + "' is not a trace id"),
    ("/api/traces/not-hex", "unable to parse param 'traceID': 'not-hex' is not a trace id of 1 to 32 hex digits"),
    ("/api/traces/" + "f" * 33, "unable to parse param 'traceID': '" + "f" * 33 + "' is not a trace id"),
    ("/api/traces/abcd?start=soon", "unable to parse param 'start': 'soon' is not an integer"),
    ("/api/operations", "parameter 'service' is required"),
    ("/api/operations?service=a&spanKind=sideways", "unable to parse param 'spanKind': unsupported span kind"),
    ("/api/dependencies?endTs=now", "unable to parse param 'endTs': 'now' is not an integer"),
    ("/api/dependencies?lookback=-5", "unable to parse param 'lookback': must not be negative"),
]


@pytest.mark.parametrize(("url", "message"), BAD_REQUESTS, ids=[url for url, _ in BAD_REQUESTS])
def test_a_bad_parameter_is_a_400_in_the_error_envelope(api, url, message):
    response = api.client.get(url)

    assert response.status_code == 400
    assert response.mimetype == "application/json"
    [error] = response.json["errors"]
    assert error["code"] == 400
    assert error["msg"].startswith(message), error["msg"]
    assert response.json == error_envelope(400, error["msg"])


def test_too_many_trace_ids_in_one_multi_get_is_a_400(api):
    response = api.client.get("/api/traces", query_string=[("traceID", f"{i:x}") for i in range(1, 102)])

    assert response.status_code == 400
    assert response.json == error_envelope(400, "invalid parameter: at most 100 traceID values per request")


def test_a_missing_trace_is_a_404_trace_not_found(api):
    response = api.get("/api/traces/0123456789abcdef0123456789abcdef")

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json == error_envelope(404, "trace not found")


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json["errors"][0]["code"] == 404


def test_a_wrong_method_is_a_json_405(api):
    api.store(SpanSpec("frontend", "op"))

    response = api.client.post("/api/services")

    assert response.status_code == 405
    assert response.json["errors"][0]["code"] == 405
