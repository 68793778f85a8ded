"""The fixed set of Jaeger query API calls that both the Locust query users and the benchmark run.

Results only compare across backends (ours, a real Jaeger) when every run asks the same
questions in the same proportions: a trace by id, traces by service, by attribute and by duration
range, and the service and operation lists.  Two attribute searches are there for their cost: one
for a value no span carries (a store that matches by reading spans reads the whole window to say
so) and one over the six hours before the window's end.  Each query also knows what a correct answer looks
like, so a backend that answers fast but wrong is counted as failing.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

# kind → weight in the mix (out of 14)
QUERY_MIX: dict[str, int] = {
    "trace-by-id": 5,
    "find-by-service": 2,
    "find-by-attribute": 2,
    "find-by-attribute-no-match": 1,
    "find-by-attribute-6h": 1,
    "find-by-duration": 1,
    "services": 1,
    "operations": 1,
}
FIND_LIMIT = 20
SIX_HOURS_US = 6 * 3600 * 1_000_000


@dataclass(frozen=True)
class Query:
    kind: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    trace_id: str | None = None  # for trace-by-id: the trace the answer must hold
    expect_none: bool = False  # the answer must hold no trace

    @property
    def name(self) -> str:
        """The name statistics group by: the kind, never the concrete id."""
        return self.kind


@dataclass
class QueryPlan:
    """Builds queries over a time window and a list of services, in the fixed mix."""

    services: list[str]
    window_start_us: int
    window_end_us: int
    attribute: tuple[str, str] = ("customer.tier", "gold")
    absent_value: str = "hotrod-no-such-value"  # what find-by-attribute-no-match asks the attribute for
    duration_range: tuple[str, str] = ("50ms", "300ms")
    rand: random.Random = field(default_factory=lambda: random.Random(0))

    def next(self, trace_id: str | None) -> Query:
        """The next query of the mix; trace-by-id is skipped while there is no id to ask for."""
        kinds = [kind for kind in QUERY_MIX if trace_id is not None or kind != "trace-by-id"]
        kind = self.rand.choices(kinds, weights=[QUERY_MIX[k] for k in kinds])[0]
        return self.build(kind, trace_id)

    def build(self, kind: str, trace_id: str | None = None) -> Query:
        service = self.services[self.rand.randrange(len(self.services))] if self.services else ""
        if kind == "trace-by-id":
            if trace_id is None:
                raise ValueError("trace-by-id needs a trace id")
            return Query(kind, f"/api/traces/{trace_id}", trace_id=trace_id)
        if kind == "services":
            return Query(kind, "/api/services")
        if kind == "operations":
            return Query(kind, f"/api/services/{service}/operations")
        params = {
            "service": service,
            "start": str(self.window_start_us),
            "end": str(self.window_end_us),
            "limit": str(FIND_LIMIT),
        }
        key, value = self.attribute
        if kind == "find-by-attribute":
            params["tags"] = json.dumps({key: value})
        elif kind == "find-by-attribute-no-match":
            params["tags"] = json.dumps({key: self.absent_value})
            return Query(kind, "/api/traces", params, expect_none=True)
        elif kind == "find-by-attribute-6h":
            params["tags"] = json.dumps({key: value})
            params["start"] = str(self.window_end_us - SIX_HOURS_US)
        elif kind == "find-by-duration":
            params["minDuration"], params["maxDuration"] = self.duration_range
        elif kind != "find-by-service":
            raise ValueError(f"unknown query kind {kind!r}")
        return Query(kind, "/api/traces", params)


def check_answer(query: Query, status: int, body: bytes) -> str | None:
    """Why the answer is wrong, or None when it is a correct answer to ``query``."""
    if status == 404 and query.trace_id:
        return f"trace {query.trace_id} not found"
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    try:
        document: Any = json.loads(body)
    except ValueError:
        return "answer is not JSON"
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        return "answer has no data list"
    if query.expect_none and data:
        return f"{len(data)} traces found where none should match"
    if query.trace_id:
        spans = data[0].get("spans") if data and isinstance(data[0], dict) else None
        if not spans:
            return f"trace {query.trace_id} came back without spans"
    return None
