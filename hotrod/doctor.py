""" "I see no traces": send one dispatch through and find its trace in the backend, or say plainly why not.

Used by ``hotrod all`` at start-up and by ``hotrod doctor`` (``hotrod.cli.doctor``) against any deployment. Each failure
names the step that failed and the likely causes, in the order a person would check them.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import requests

from hotrod.settings import SERVICES

_TRACERESPONSE = re.compile(r"^\s*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\s*$")


class CheckFailed(Exception):
    """The check found a problem; the message is meant for a person."""


@dataclass(frozen=True)
class CheckResult:
    trace_id: str
    span_count: int
    services: list[str]
    trace_url: str


def _get(url: str, what: str, **kwargs: object) -> requests.Response:
    try:
        return requests.get(url, timeout=30, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as exc:
        raise CheckFailed(f"{what} is not reachable at {url}: {exc}") from exc


def _dispatch(frontend: str, customer: int, sampled_parent: bool = False) -> tuple[str, bool]:
    """One dispatch; returns its trace id and whether it was sampled.

    ``sampled_parent`` sends it as part of a sampled trace (W3C ``traceparent``), as a traced caller
    would: parent-based samplers then trace it whatever their own probability.
    """
    request_id = f"doctor-{uuid.uuid4().hex[:8]}"
    headers = {"baggage": f"session=doctor,request={request_id}"}
    if sampled_parent:
        headers["traceparent"] = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    reply = _get(f"{frontend}/dispatch", "the frontend", params={"customer": customer}, headers=headers)
    if not reply.ok:
        raise CheckFailed(f"the dispatch failed: HTTP {reply.status_code} from {reply.url}: {reply.text[:300]}")
    header = reply.headers.get("traceresponse")
    if not header:
        raise CheckFailed(
            "the frontend answered without a 'traceresponse' header: tracing is off in the frontend "
            "(OTEL_SDK_DISABLED=true?) or it is not instrumented"
        )
    match = _TRACERESPONSE.match(header)
    if not match:
        raise CheckFailed(f"the frontend's traceresponse header is malformed: {header!r}")
    return match.group(2), bool(int(match.group(4), 16) & 1)


def _services_known(query: str) -> list[str]:
    reply = _get(f"{query}/api/services", "the query API")
    return list(reply.json().get("data") or []) if reply.ok else []


def _fetch_trace(query: str, trace_id: str) -> dict | None:
    reply = _get(f"{query}/api/traces/{trace_id}", "the query API")
    if reply.status_code == 404:
        return None
    if not reply.ok:
        raise CheckFailed(f"the query API answered HTTP {reply.status_code} for {reply.url}: {reply.text[:300]}")
    data = reply.json().get("data") or []
    return data[0] if data else None


def _services_in(trace: dict) -> set[str]:
    processes = trace.get("processes") or {}
    return {processes.get(s.get("processID"), {}).get("serviceName", "?") for s in trace.get("spans", [])}


def check(
    frontend: str,
    query: str,
    customer: int = 123,
    timeout_s: float = 30.0,
    flush: Callable[[], None] | None = None,
    trace_ui: str | None = None,
) -> CheckResult:
    """Dispatch once and wait until the backend returns the whole trace; ``CheckFailed`` says what is wrong."""
    frontend, query = frontend.rstrip("/"), query.rstrip("/")
    _get(f"{query}/api/services", "the query API")  # fail fast before the dispatch
    trace_id, sampled = _dispatch(frontend, customer)
    if not sampled:  # (adaptive) sampling may leave any one dispatch out: ask for a traced one
        trace_id, sampled = _dispatch(frontend, customer, sampled_parent=True)
    if not sampled:
        raise CheckFailed(
            f"trace {trace_id} was sampled out (the traceresponse flags say not sampled), even as part of a "
            "sampled trace: nothing was exported; check OTEL_TRACES_SAMPLER (use a parentbased_ sampler)"
        )
    if flush is not None:
        flush()
    deadline = time.monotonic() + timeout_s
    found: set[str] = set()
    trace: dict | None = None
    while time.monotonic() < deadline:
        trace = _fetch_trace(query, trace_id)
        found = _services_in(trace) if trace else set()
        if set(SERVICES) <= found:
            break
        time.sleep(0.5)
    if trace is None:
        known = _services_known(query)
        if "frontend" not in known:
            raise CheckFailed(
                f"trace {trace_id} never reached the backend, which has no spans from 'frontend' at all "
                f"(it knows: {', '.join(known) or 'no services'}): the services export somewhere else; "
                "check OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_PROTOCOL and the backend's OTLP ports"
            )
        raise CheckFailed(
            f"trace {trace_id} is not in the backend after {timeout_s:g}s, though it has other 'frontend' traces: "
            "the exporter may still be batching (OTEL_BSP_SCHEDULE_DELAY), the backend dropping (see its "
            "metrics), or the trace outside the query's lookback (clock skew)"
        )
    missing = sorted(set(SERVICES) - found)
    if missing:
        raise CheckFailed(
            f"trace {trace_id} is in the backend but has no spans from {', '.join(missing)}: "
            "those services export elsewhere or have tracing off"
        )
    ui = (trace_ui or query).rstrip("/")
    return CheckResult(trace_id, len(trace.get("spans", [])), sorted(found), f"{ui}/trace/{trace_id}")
