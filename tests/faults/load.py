"""Senders that remember every trace they were told was accepted, and the check that each one is stored whole.

A sender behaves as the OpenTelemetry SDK's OTLP exporter should: a 429 or 503 is retried after
its Retry-After, a connection error after a short pause, always with the same trace, until it is
accepted or the sender stops.  What counts is the acknowledged ledger: a trace is in it only
after a 200.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from prometheus_client.parser import text_string_to_metric_families

from backend.storage.factory import create_storage
from tests.backend.clients import query_trace
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

SPANS_PER_TRACE = 5
RETRYABLE = (429, 502, 503, 504)


@dataclass
class Ledger:
    acknowledged: list[bytes] = field(default_factory=list)
    refusals: dict[int, int] = field(default_factory=dict)  # status -> answers
    connection_errors: int = 0
    worst_request_s: float = 0.0  # one HTTP exchange
    worst_ack_s: float = 0.0  # first attempt of a trace to its 200, retries included
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self) -> dict[str, Any]:
        return {
            "acknowledged_traces": len(self.acknowledged),
            "acknowledged_spans": len(self.acknowledged) * SPANS_PER_TRACE,
            "refusals": dict(self.refusals),
            "connection_errors": self.connection_errors,
            "worst_request_s": round(self.worst_request_s, 3),
            "worst_ack_s": round(self.worst_ack_s, 3),
        }


def _trace() -> tuple[bytes, bytes]:
    root = SpanSpec("frontend", "GET /dispatch")
    spans = [root, *(root.child("driver", f"step {i}") for i in range(SPANS_PER_TRACE - 1))]
    return root.trace_id, export_request(spans).SerializeToString()


def _send_one(url: str, ledger: Ledger, stop: threading.Event) -> None:
    trace_id, body = _trace()
    first = time.monotonic()
    session = requests.Session()
    while not stop.is_set():
        started = time.monotonic()
        try:
            response = session.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=30)
        except requests.ConnectionError:
            with ledger.lock:
                ledger.connection_errors += 1
            stop.wait(0.05)
            continue
        took = time.monotonic() - started
        with ledger.lock:
            ledger.worst_request_s = max(ledger.worst_request_s, took)
            if response.status_code == 200:
                ledger.acknowledged.append(trace_id)
                ledger.worst_ack_s = max(ledger.worst_ack_s, time.monotonic() - first)
                return
            ledger.refusals[response.status_code] = ledger.refusals.get(response.status_code, 0) + 1
        if response.status_code not in RETRYABLE:
            raise AssertionError(f"non-retryable answer {response.status_code}: {response.text[:200]}")
        stop.wait(min(float(response.headers.get("Retry-After", "1")), 1.0))


@contextmanager
def senders(url: str, threads: int = 2) -> Iterator[Ledger]:
    """Send traces to ``url`` from ``threads`` threads until the block ends; yields the ledger as it grows."""
    ledger = Ledger()
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            _send_one(url, ledger, stop)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield ledger
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)


class Backend(Protocol):
    """The backend under test (tests.backend.conftest.BackendProcess)."""

    def url(self, name: str, path: str = "") -> str: ...


class Fault(Protocol):
    """What a fault test takes down and brings back (tests.faults.conftest.Target)."""

    kind: str
    options: dict[str, Any]
    held: bool  # one process holds the storage (embedded chDB): read it back through the backend's query API

    def go_down(self) -> None: ...

    def come_up(self) -> None: ...


@contextmanager
def through_a_fault(url: str, fault: Fault, restart: Callable[[], None] | None = None) -> Iterator[Ledger]:
    """Load under way, ``fault`` down for the block, then load going again (after ``restart``, where the fault took
    the backend with it): the course every fault test runs, so that each says only what it does while down."""
    with senders(url) as ledger:
        wait_for(lambda: len(ledger.acknowledged) >= 100, timeout=30, what="load under way")
        fault.go_down()
        try:
            yield ledger
        finally:
            fault.come_up()
        if restart is not None:
            restart()
        after = len(ledger.acknowledged)
        wait_for(lambda: len(ledger.acknowledged) >= after + 100, timeout=60, what="load after the fault")


def missing_after_drain(name: str, backend: Backend, fault: Fault, ledger: Ledger) -> list[str]:
    """Once the backend's queue has drained, the acknowledged traces not stored whole; prints the run's figures
    as one JSON line (what the closing notes quote)."""
    metrics_url = backend.url("metrics", "/metrics")
    wait_for(lambda: queue_size(metrics_url) == 0, timeout=60, what="the queue drained into the storage")
    if fault.held:
        missing = missing_through_api(backend.url("query"), ledger.acknowledged)
    else:
        missing = missing_traces(fault.kind, fault.options, ledger.acknowledged)
    print(json.dumps({"fault": name, **ledger.summary(), "missing": len(missing)}))
    return missing


def queue_size(metrics_url: str) -> float:
    """Spans in every sending queue of the backend whose /metrics is at ``metrics_url``."""
    text = requests.get(metrics_url, timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "otelcol_exporter_queue_size"
    )


def missing_through_api(query_url: str, acknowledged: list[bytes]) -> list[str]:
    """Acknowledged traces that the query API does not return whole (Jaeger's ``/api/traces/{id}``)."""
    missing = []
    for trace_id in acknowledged:
        trace = query_trace(query_url, trace_id.hex())
        if trace is None or len({span["spanID"] for span in trace["spans"]}) != SPANS_PER_TRACE:
            missing.append(trace_id.hex())
    return missing


def missing_traces(kind: str, options: dict[str, Any], acknowledged: list[bytes]) -> list[str]:
    """Acknowledged traces that are not stored whole, read straight from the storage."""
    storage = create_storage(kind, options, "faults check")
    try:
        reader = storage.reader()
        missing = []
        for trace_id in acknowledged:
            trace = reader.get_trace(trace_id)
            if trace is None or len({span.span_id for span in trace.spans}) != SPANS_PER_TRACE:
                missing.append(trace_id.hex())
        return missing
    finally:
        storage.close()
