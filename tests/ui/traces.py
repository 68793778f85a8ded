"""Traces shaped like HotROD's, for the UI tests and the README screenshots."""

from __future__ import annotations

import time

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.builders import SpanSpec

MS = 1_000_000
SCRIPT_NAME = "<script>alert(1)</script>"
QUOTED_NAME = "\"><img src=x onerror=alert('q')>"


def dispatch(request_id: str, *, sql_ms: int = 300, drivers: int = 3, start_ns: int | None = None) -> list[SpanSpec]:
    """A /dispatch request: customer lookup (SQL), driver search, one route call per driver."""
    start = start_ns or time.time_ns() - 5_000 * MS
    total = sql_ms + 30 + drivers * 50 + 20
    root = SpanSpec(
        "frontend",
        "HTTP GET /dispatch",
        start_ns=start,
        duration_ns=total * MS,
        attributes={"request": request_id, "http.method": "GET", "http.status_code": 200},
        resource={"host.name": "web-1"},
        events=[("dispatch started", 1 * MS, {"customer": "123"})],
    )
    customer = root.child("customer", "HTTP GET /customer", start_ns=start + 1 * MS, duration_ns=(sql_ms + 5) * MS)
    sql = customer.child(
        "mysql",
        "SQL SELECT",
        start_ns=start + 2 * MS,
        duration_ns=sql_ms * MS,
        kind=Span.SPAN_KIND_CLIENT,
        attributes={"sql.query": "SELECT * FROM customer WHERE customer_id=123"},
        events=[("acquired lock", 1 * MS, {"waiters": 1})],
    )
    driver = root.child("driver", "FindNearest", start_ns=start + (sql_ms + 8) * MS, duration_ns=25 * MS)
    specs = [root, customer, sql, driver]
    at = start + (sql_ms + 35) * MS
    for index in range(drivers):
        specs.append(root.child("route", "HTTP GET /route", start_ns=at + index * 50 * MS, duration_ns=48 * MS))
    return specs


def hostile() -> list[SpanSpec]:
    """A trace whose span data tries to become markup."""
    root = SpanSpec("frontend", "HTTP GET /evil", duration_ns=20 * MS, start_ns=time.time_ns() - 2_000 * MS)
    evil = root.child(
        "customer",
        SCRIPT_NAME,
        attributes={"<img src=x onerror=alert(2)>": "<b>bold</b>", "note": "\"quoted\" & 'single'"},
        resource={"host.name": "<i>host</i>"},
        events=[("<script>alert(3)</script>", 1 * MS, {"html": "<svg onload=alert(4)>"})],
        status_code=2,
        status_message="<em>failed</em>",
        links=[(root.trace_id, root.span_id)],
    )
    return [root, evil]


def hostile_names() -> list[SpanSpec]:
    """A trace whose service, operation and attribute names try to become markup or break out of quotes."""
    root = SpanSpec(QUOTED_NAME, SCRIPT_NAME, duration_ns=20 * MS, start_ns=time.time_ns() - 2_000 * MS)
    child = root.child(
        SCRIPT_NAME,
        QUOTED_NAME,
        attributes={"<b>key</b>": "<i>value</i>", "q\"'": "\"quoted\" & 'single'"},
        status_code=2,
    )
    return [root, child]
