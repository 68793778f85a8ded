"""The queries Jaeger timed, with their values picked from the dataset as Jaeger's script picks them.

Jaeger's script (clickhouse-benchmarking, ``setup/native``) ran SQL on the
server: services, operations of a service, one trace by id, and searches
returning up to 1,000 trace ids by service, operation, duration range
(the data's whole range), time range (the data's whole span), one string
attribute, and all of these together, over all the data.  Here each query
runs twice over: through the Jaeger query API (what a user waits for; the
only way into an external Jaeger), with the UI's limit of 20 traces; and
on the storage plug-in's reader in this process (trace ids only, limit
1,000: the same work as Jaeger's SQL).  The attribute, ``attr_00 =
val_00``, is carried by about one span in 9,000 (keys cycle mod 97 and
values mod 1,000), so every search that names it must look at every span.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import requests

from backend.storage.api import SpanReader, Trace, TraceQuery
from loadgen.bench.jaeger_clickhouse.load import Prepared, Say
from loadgen.tracegen import CHILD_NS, service_name

SERVICE = service_name(0)
ROOT_OPERATION = "lets-go"
CHILD_OPERATION = "child-span-00"
ATTRIBUTE = ("attr_00", "val_00")
API_LIMIT = 20
STORAGE_LIMIT = 1000
API_TIMEOUT_S = 120.0
QUERY_NAMES = (
    "services",
    "operations",
    "get-trace",
    "search by service",
    "search by operation",
    "search by duration",
    "search by time range",
    "search by attribute",
    "search by all filters",
)


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p99_ms: float
    results: int  # what the last run returned (traces, services, ...), to show the queries found something


def timed(repeats: int, run: Callable[[int], int]) -> Timing:
    samples = []
    found = 0
    for repeat in range(repeats):
        started = time.perf_counter()
        found = run(repeat)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))]
    return Timing(round(statistics.median(samples), 1), round(p99, 1), found)


def searches(prepared: Prepared) -> dict[str, TraceQuery]:
    whole: dict[str, Any] = {"start_min_ns": prepared.start_ns, "start_max_ns": prepared.end_ns}
    key, value = ATTRIBUTE
    return {
        "search by service": TraceQuery(service=SERVICE, **whole),
        "search by operation": TraceQuery(service=SERVICE, operation=ROOT_OPERATION, **whole),
        "search by duration": TraceQuery(duration_min_ns=CHILD_NS, duration_max_ns=10 * CHILD_NS, **whole),
        "search by time range": TraceQuery(**whole),
        "search by attribute": TraceQuery(tags={key: value}, **whole),
        "search by all filters": TraceQuery(
            service=SERVICE,
            operation=CHILD_OPERATION,
            duration_min_ns=CHILD_NS // 2,
            duration_max_ns=2 * CHILD_NS,
            tags={key: value},
            **whole,
        ),
    }


def on_storage(reader: SpanReader, prepared: Prepared, repeats: int, say: Say, seed: int = 1) -> dict[str, Timing]:
    picks = random.Random(seed)
    runs: dict[str, Callable[[int], int]] = {
        "services": lambda _: len(reader.get_services()),
        "operations": lambda _: len(reader.get_operations(SERVICE)),
        "get-trace": lambda _: _span_count(reader.get_trace(picks.choice(prepared.trace_ids))),
    }
    for name, query in searches(prepared).items():
        limited = TraceQuery(**{**_fields(query), "limit": STORAGE_LIMIT})
        runs[name] = partial(_found, reader, limited)
    return timed_each(runs, repeats, say)


def timed_each(runs: dict[str, Callable[[int], int]], repeats: int, say: Say) -> dict[str, Timing]:
    """Each query timed in turn, its figures said once known (at 10 M spans a query set takes minutes)."""
    timings = {}
    for name, run in runs.items():
        timings[name] = timing = timed(repeats, run)
        say(f"  {name}: p50 {timing.p50_ms:g} ms, p99 {timing.p99_ms:g} ms ({timing.results} found)")
    return timings


def _span_count(trace: Trace | None) -> int:
    return len(trace.spans) if trace else 0


def _found(reader: SpanReader, query: TraceQuery, _repeat: int) -> int:
    return len(reader.find_trace_ids(query))


def on_api(query_url: str, prepared: Prepared, repeats: int, say: Say, seed: int = 1) -> dict[str, Timing]:
    picks = random.Random(seed)
    session = requests.Session()

    def get(path: str, params: dict | None = None) -> list:
        response = session.get(f"{query_url}{path}", params=params, timeout=API_TIMEOUT_S)
        response.raise_for_status()
        return response.json().get("data") or []

    runs: dict[str, Callable[[int], int]] = {
        "services": lambda _: len(get("/api/services")),
        "operations": lambda _: len(get(f"/api/services/{SERVICE}/operations")),
        "get-trace": lambda _: len(get(f"/api/traces/{picks.choice(prepared.trace_ids).hex()}")[0]["spans"]),
    }
    for name, query in searches(prepared).items():
        params = {"service": SERVICE, **api_params(query)}  # the API requires a service
        runs[name] = partial(_searched, get, params)
    return timed_each(runs, repeats, say)


def _searched(get: Callable[[str, dict[str, str]], list], params: dict[str, str], _repeat: int) -> int:
    return len(get("/api/traces", params))


def api_params(query: TraceQuery) -> dict[str, str]:
    """The Jaeger API's search parameters (times in microseconds, durations with units) for ``query``."""
    params = {"limit": str(API_LIMIT)}
    if query.service:
        params["service"] = query.service
    if query.operation:
        params["operation"] = query.operation
    if query.start_min_ns is not None:
        params["start"] = str(query.start_min_ns // 1000)
    if query.start_max_ns is not None:
        params["end"] = str(query.start_max_ns // 1000 + 1)
    if query.duration_min_ns is not None:
        params["minDuration"] = f"{query.duration_min_ns // 1000}us"
    if query.duration_max_ns is not None:
        params["maxDuration"] = f"{query.duration_max_ns // 1000}us"
    if query.tags:
        params["tags"] = json.dumps(query.tags)
    return params


def _fields(query: TraceQuery) -> dict[str, Any]:
    return {name: getattr(query, name) for name in TraceQuery.__dataclass_fields__}
