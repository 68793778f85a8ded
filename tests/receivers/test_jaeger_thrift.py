"""Jaeger clients' Thrift protocols: agent UDP (compact and binary) and collector HTTP, read back whole."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
import requests

from backend.config import from_mapping
from backend.service import BackendService
from tests.receivers import jaeger_client as client
from tests.receivers.conftest import MAX_PACKET, Backend, legacy_config
from tests.support import wait_for

FAILED = "otelcol_receiver_failed_requests_total"


def new_trace() -> tuple[int, int]:
    return client.random_id(), client.random_id()


def stored(backend: Backend, trace: tuple[int, int], spans: int) -> dict:
    found: dict = {}

    def whole() -> bool:
        found["trace"] = backend.trace(client.trace_hex(trace))
        return found["trace"] is not None and len(found["trace"]["spans"]) == spans

    wait_for(whole, timeout=10, what=f"{spans} span(s) of trace {client.trace_hex(trace)}")
    return found["trace"]


def tags_of(item: dict) -> dict:
    return {t["key"]: t["value"] for t in item["tags"]}


def two_spans(trace: tuple[int, int], service: str) -> tuple[Any, Any]:
    root = client.span(trace, "GET /dispatch", tags={"span.kind": "server", "http.status_code": 200})
    child = client.span(
        trace,
        "SQL SELECT",
        parent=root.spanId,
        tags={"span.kind": "client", "error": True, "db.rows": 3},
        logs=[client.jaeger().Log(timestamp=root.startTime + 10, fields=[client.tag("event", "retry")])],
    )
    return root, client.batch(service, [root, child], {"hostname": "box-1", "jaeger.version": "Go-2.30"})


@pytest.mark.parametrize(
    ("endpoint", "protocol"), [("jaeger/thrift_compact", "compact"), ("jaeger/thrift_binary", "binary")]
)
def test_an_agent_datagram_is_stored_with_parent_kinds_tags_and_logs(backend: Backend, endpoint: str, protocol: str):
    trace = new_trace()
    root, batch = two_spans(trace, f"legacy-udp-{protocol}")

    client.send_udp(backend.address(endpoint), client.datagram(batch, protocol))

    found = stored(backend, trace, 2)
    by_name = {s["operationName"]: s for s in found["spans"]}
    child = by_name["SQL SELECT"]
    assert child["references"][0]["spanID"] == f"{root.spanId & (2**64 - 1):016x}"
    assert tags_of(by_name["GET /dispatch"])["span.kind"] == "server"
    assert tags_of(child)["span.kind"] == "client"
    assert tags_of(child)["error"] is True
    assert tags_of(child)["db.rows"] == 3
    assert [log["fields"][0]["value"] for log in child["logs"]] == ["retry"]
    process = found["processes"][child["processID"]]
    assert process["serviceName"] == f"legacy-udp-{protocol}"
    assert tags_of(process)["hostname"] == "box-1"


def test_a_batch_posted_over_http_is_accepted_and_stored(backend: Backend):
    trace = new_trace()
    _root, batch = two_spans(trace, "legacy-http")

    response = client.post_http(backend.url("jaeger/thrift_http", "/api/traces"), client.binary_batch(batch))

    assert response.status_code == 202
    assert stored(backend, trace, 2)["spans"][0]["startTime"] > 0


def test_a_truncated_datagram_is_counted_and_the_port_keeps_serving(backend: Backend):
    labels = {"receiver": "jaeger", "transport": "thrift_compact", "reason": "malformed"}
    before = backend.metric(FAILED, **labels)
    address = backend.address("jaeger/thrift_compact")
    trace = new_trace()
    whole = client.datagram(client.batch("legacy-truncated", [client.span(trace, "op")]), "compact")

    client.send_udp(address, whole[: len(whole) // 2])
    wait_for(lambda: backend.metric(FAILED, **labels) == before + 1, timeout=5, what="the bad datagram counted")
    client.send_udp(address, whole)

    assert len(stored(backend, trace, 1)["spans"]) == 1


def test_an_oversized_datagram_is_counted_as_too_large(backend: Backend):
    labels = {"receiver": "jaeger", "transport": "thrift_compact", "reason": "too_large"}
    before = backend.metric(FAILED, **labels)
    big = client.span(new_trace(), "op", tags={"blob": "x" * MAX_PACKET})

    client.send_udp(
        backend.address("jaeger/thrift_compact"), client.datagram(client.batch("legacy-big", [big]), "compact")
    )

    wait_for(lambda: backend.metric(FAILED, **labels) == before + 1, timeout=5, what="the oversized datagram counted")


def test_http_answers_a_body_that_is_not_a_batch_with_400_and_the_reason(backend: Backend):
    response = client.post_http(backend.url("jaeger/thrift_http", "/api/traces"), b"\x0c\x00\x01garbage")

    assert response.status_code == 400
    assert "Jaeger" in response.text


def test_http_answers_a_span_with_a_zero_trace_id_with_400(backend: Backend):
    batch = client.batch("legacy-bad-id", [client.span((0, 0), "op")])

    response = client.post_http(backend.url("jaeger/thrift_http", "/api/traces"), client.binary_batch(batch))

    assert response.status_code == 400
    assert "trace id" in response.text


def test_http_refuses_other_content_types_with_415(backend: Backend):
    response = client.post_http(backend.url("jaeger/thrift_http", "/api/traces"), b"{}", "application/json")

    assert response.status_code == 415


def hostile_datagram() -> bytes:
    """A binary emitBatch whose span list claims 2^31-1 elements of a type that does not exist."""
    name = b"emitBatch"
    header = b"\x80\x01\x00\x04" + len(name).to_bytes(4, "big") + name + b"\x00\x00\x00\x01"
    return header + b"\x0c\x00\x01" + b"\x0f\x00\x02" + b"\xeb\x7f\xff\xff\xff"


def test_a_datagram_claiming_billions_of_elements_is_rejected_at_once(backend: Backend):
    labels = {"receiver": "jaeger", "transport": "thrift_binary", "reason": "malformed"}
    before = backend.metric(FAILED, **labels)
    address = backend.address("jaeger/thrift_binary")
    trace = new_trace()

    client.send_udp(address, hostile_datagram())
    wait_for(lambda: backend.metric(FAILED, **labels) == before + 1, timeout=5, what="the hostile datagram counted")
    client.send_udp(
        address, client.datagram(client.batch("legacy-after-hostile", [client.span(trace, "op")]), "binary")
    )

    assert len(stored(backend, trace, 1)["spans"]) == 1


def _replace_socket_under(address: tuple[str, int]) -> socket.socket:
    """Swap the process's UDP socket bound to ``address`` for a TCP one that cannot ``recv``: a socket fault.

    The fd number stays taken (dup2), so nothing else can land on it while the receiver still reads it.
    """
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            probe = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        with probe:
            if probe.type == socket.SOCK_DGRAM and probe.getsockname()[:2] == address:
                broken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                os.dup2(broken.fileno(), fd)
                return broken
    raise AssertionError(f"no UDP socket bound to {address}")


def test_a_udp_socket_that_fails_after_start_turns_health_to_503_naming_the_receiver():
    config = legacy_config()
    config["service"]["extensions"].append("healthcheckv2")
    config["extensions"]["healthcheckv2"] = {"http": {"endpoint": "127.0.0.1:0"}}
    service = BackendService(from_mapping(config, "tests/receivers"))
    service.start()
    try:
        health = f"http://{service.endpoints['healthcheckv2']}/status"
        assert requests.get(health, timeout=5).status_code == 200
        host, port = service.endpoints["jaeger/thrift_compact"].rsplit(":", 1)
        broken = _replace_socket_under((host, int(port)))
        try:
            answer = wait_for(lambda: _unhealthy(health), what="health to report the failing socket")
            assert "jaeger/thrift_compact" in answer["problems"]
            assert answer["healthy"] is False
        finally:
            broken.close()
    finally:
        service.shutdown()


def _unhealthy(url: str) -> dict | None:
    response = requests.get(url, timeout=5)
    return response.json() if response.status_code == 503 else None
