"""``query.filter`` (RFC 0005) on /api/v3: the conjunctive subset is answered, anything else is refused by name."""

from __future__ import annotations

import json

import pytest

from tests.builders import SpanSpec

SECOND = 1_000_000_000
WINDOW = {"query.startTimeMin": "1970-01-01T00:00:00Z", "query.startTimeMax": "2100-01-01T00:00:00Z"}


def attr(key: str, level: str = "") -> dict:
    return {"attr": {"key": key, "level": level} if level else {"key": key}}


def field(level: str, name: str) -> dict:
    return {"field": {"level": level, "name": name}}


def scalar(value: str) -> dict:
    return {"scalar": {"value": value}}


def call(op: str, *args: dict) -> dict:
    return {"op": op, "args": list(args)}


def search(api, filter_: dict, path: str = "/api/v3/trace-summaries", **params):
    return api.get(path, **{**WINDOW, "query.filter": json.dumps(filter_), **params})


def trace_ids(response) -> set[str]:
    assert response.status_code == 200, response.json
    return {summary["traceId"] for summary in response.json.get("summaries", [])}


def test_a_level_qualified_attribute_matches_only_at_its_level(api):
    on_resource = SpanSpec("driver", "find", resource={"zone": "eu"})
    on_span = SpanSpec("driver", "find", attributes={"zone": "eu"})
    api.store(on_resource, on_span)

    found = trace_ids(search(api, call("eq", attr("zone", "resource"), scalar("eu"))))

    assert found == {on_resource.trace_id.hex()}


def test_fields_and_attributes_combine_with_and(api):
    wanted = SpanSpec("driver", "find", kind=3, duration_ns=50_000_000, scope_attributes={"lib": "redis"})
    api.store(
        wanted,
        SpanSpec("driver", "find", kind=3, duration_ns=1_000_000, scope_attributes={"lib": "redis"}),
        SpanSpec("route", "find", kind=3, duration_ns=50_000_000, scope_attributes={"lib": "redis"}),
    )
    filter_ = call(
        "and",
        {"call": call("eq", field("resource", "service"), scalar("driver"))},
        {"call": call("eq", field("span", "name"), scalar("find"))},
        {
            "call": call(
                "and",
                {"call": call("eq", field("span", "kind"), scalar("client"))},
                {"call": call("gt", field("span", "duration"), scalar("10ms"))},
            )
        },
        {"call": call("eq", attr("lib", "scope"), scalar("redis"))},
    )

    assert trace_ids(search(api, filter_)) == {wanted.trace_id.hex()}


def test_a_constant_on_the_left_asks_the_same_question(api):
    slow = SpanSpec("driver", "find", duration_ns=50_000_000)
    api.store(slow, SpanSpec("driver", "find", duration_ns=1_000_000))

    found = trace_ids(search(api, call("lt", scalar("10ms"), field("span", "duration"))))

    assert found == {slow.trace_id.hex()}


def test_the_filter_works_on_the_traces_endpoint_too(api):
    wanted = SpanSpec("driver", "find", links=[(bytes(16), bytes(8), {"reason": "retry"})])
    api.store(wanted, SpanSpec("driver", "find"))

    response = search(api, call("eq", attr("reason", "link"), scalar("retry")), path="/api/v3/traces")

    spans = [s for r in response.json["result"]["resourceSpans"] for ss in r["scopeSpans"] for s in ss["spans"]]
    assert {span["traceId"] for span in spans} == {wanted.trace_id.hex()}


@pytest.mark.parametrize(
    ("filter_", "named"),
    [
        (
            call("or", {"call": call("eq", attr("a"), scalar("1"))}, {"call": call("eq", attr("b"), scalar("2"))}),
            "operator 'or'",
        ),
        (call("not", {"call": call("eq", attr("a"), scalar("1"))}), "operator 'not'"),
        (call("ne", attr("a"), scalar("1")), "operator 'ne'"),
        (call("regex", attr("a"), scalar("x.*")), "operator 'regex'"),
        (call("exists", attr("a")), "operator 'exists'"),
        (call("gt", attr("size"), scalar("5")), "'gt' on attribute 'size'"),
        (call("eq", field("span", "status"), scalar("error")), "'eq' on span.status"),
        (call("eq", field("span", "name"), field("span", "statusMessage")), "'eq' of field and field"),
        (
            call("some", {"nested": {"level": "event"}}, {"call": call("eq", attr("a", "event"), scalar("1"))}),
            "operator 'some'",
        ),
    ],
)
def test_what_is_not_answered_is_refused_by_name(api, filter_, named):
    response = search(api, filter_)

    assert response.status_code == 400
    assert named in response.json["error"]["message"]
    assert response.json["error"]["message"].startswith("unsupported query.filter")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"args": []}), 'a call is an object with a string "op"'),
        (json.dumps(call("xor", attr("a"), scalar("1"))), "unknown operator 'xor'"),
        (json.dumps(call("eq", attr("a", "process"), scalar("1"))), "unknown level 'process'"),
        (json.dumps(call("eq", field("span", "color"), scalar("1"))), "span has no field 'color'"),
        (json.dumps(call("eq", field("span", "kind"), scalar("SERVER"))), "span.kind is one of"),
        (json.dumps(call("gt", field("span", "duration"), scalar("soon"))), "span.duration"),
    ],
)
def test_a_malformed_filter_is_refused_with_what_is_wrong(api, text, named):
    response = api.get("/api/v3/trace-summaries", **{**WINDOW, "query.filter": text})

    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("malformed parameter query.filter")
    assert named in response.json["error"]["message"]


def test_a_deeply_nested_filter_is_refused_not_a_crash(api):
    deep: dict = call("eq", attr("a"), scalar("1"))
    for _ in range(200):
        deep = call("and", {"call": deep}, {"call": call("eq", attr("a"), scalar("1"))})

    response = search(api, deep)

    assert response.status_code == 400
    assert "nested deeper than" in response.json["error"]["message"]


def test_json_nested_past_the_parser_is_refused_not_a_crash(api):
    response = api.get("/api/v3/trace-summaries", **{**WINDOW, "query.filter": "[" * 100_000})

    assert response.status_code == 400


def test_a_filter_excludes_the_legacy_fields(api):
    response = search(api, call("eq", attr("a"), scalar("1")), **{"query.serviceName": "driver"})

    assert response.status_code == 400
    assert "cannot be combined with query.serviceName" in response.json["error"]["message"]
