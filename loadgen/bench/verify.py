"""End-to-end completeness: is every accepted trace stored, with every one of its spans?

A backend that acknowledges spans and then loses them looks fast in every other number, so the
benchmark asks the query API for every trace id it had accepted and compares span counts.  It
fetches up to ``BATCH`` ids per request (``/api/traces?traceID=…&traceID=…``, as Jaeger allows)
and falls back to one request per id when an endpoint refuses that.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

BATCH = 50
WORKERS = 4
TIMEOUT_S = 60.0


@dataclass
class Completeness:
    expected_traces: int = 0
    expected_spans: int = 0
    found_spans: int = 0
    missing: list[str] = field(default_factory=list)  # trace ids not found at all
    incomplete: dict[str, tuple[int, int]] = field(default_factory=dict)  # id → (expected, found) spans

    @property
    def percent(self) -> float | None:
        """Share of the accepted spans that were found; None when nothing was accepted (nothing was proven)."""
        return 100.0 * self.found_spans / self.expected_spans if self.expected_spans else None

    @property
    def complete(self) -> bool:
        return not self.missing and not self.incomplete


def _key(trace_id: str) -> int:
    """Jaeger prints 64-bit ids in 16 digits, 128-bit ones in 32: compare them as numbers."""
    return int(trace_id, 16)


def _spans_by_trace(document: dict) -> dict[int, int]:
    found: dict[int, int] = {}
    for trace in document.get("data") or []:
        spans = trace.get("spans") or []
        if spans:
            key = _key(trace.get("traceID") or spans[0]["traceID"])
            found[key] = found.get(key, 0) + len({span["spanID"] for span in spans})
    return found


def _fetch(session: requests.Session, query_url: str, ids: list[str]) -> dict[int, int]:
    response = session.get(f"{query_url}/api/traces", params=[("traceID", i) for i in ids], timeout=TIMEOUT_S)
    if response.status_code == 200:
        return _spans_by_trace(response.json())
    found: dict[int, int] = {}
    for trace_id in ids:  # no multi-id fetch here: one by one
        single = session.get(f"{query_url}/api/traces/{trace_id}", timeout=TIMEOUT_S)
        if single.status_code == 200:
            found.update(_spans_by_trace(single.json()))
    return found


def verify(query_url: str, expected: dict[str, int]) -> Completeness:
    """Check every trace in ``expected`` (id → span count) against the query API."""
    result = Completeness(expected_traces=len(expected), expected_spans=sum(expected.values()))
    ids = list(expected)
    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]

    def check(batch: list[str]) -> dict[int, int]:
        with requests.Session() as session:
            return _fetch(session, query_url, batch)

    with ThreadPoolExecutor(WORKERS) as pool:
        for batch, found in zip(batches, pool.map(check, batches), strict=True):
            for trace_id in batch:
                spans = found.get(_key(trace_id), 0)
                result.found_spans += min(spans, expected[trace_id])
                if spans == 0:
                    result.missing.append(trace_id)
                elif spans != expected[trace_id]:
                    result.incomplete[trace_id] = (expected[trace_id], spans)
    return result


def wait_until_stored(query_url: str, expected: dict[str, int], timeout_s: float) -> float | None:
    """Seconds until all of ``expected`` (a small sample) is queryable, or None if not within the timeout."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if verify(query_url, expected).complete:
            return time.perf_counter() - started
        time.sleep(0.05)
    return None
