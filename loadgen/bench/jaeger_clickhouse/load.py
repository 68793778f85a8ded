"""Loading the dataset: requests generated once into a file, then sent as fast as the backend takes them.

The requests are written before the clock starts (generating them in Python
costs more CPU than storing them), as length-prefixed protobuf, and streamed
from that file by ``senders`` threads.  A refusal (429, 503) is retried after
a short pause, so every span is stored and the rate is what the backend
sustains.  The clock stops when the last traces sent can be read back whole.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from loadgen.bench.bulk import send_all
from loadgen.bench.verify import wait_until_stored
from loadgen.tracegen import Tracegen

_LENGTH = struct.Struct(">I")
LAST_TRACES = 20  # the traces whose arrival marks the load as stored


@dataclass(frozen=True)
class Prepared:
    path: Path
    requests: int
    spans: int
    trace_ids: list[bytes]
    spans_per_trace: int
    start_ns: int
    end_ns: int


def prepare(generator: Tracegen, path: Path) -> Prepared:
    count = 0
    with path.open("wb") as out:
        for request in generator.requests():
            body = request.SerializeToString()
            out.write(_LENGTH.pack(len(body)))
            out.write(body)
            count += 1
    shape = generator.shape
    end_ns = generator.start_ns + shape.span_ns
    return Prepared(path, count, shape.spans, generator.trace_ids, shape.children + 1, generator.start_ns, end_ns)


def bodies(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while header := source.read(_LENGTH.size):
            yield source.read(_LENGTH.unpack(header)[0])


@dataclass
class Loaded:
    seconds: float  # first request sent → last traces queryable
    answered_seconds: float  # first request sent → last request answered
    retries: int
    failed: str = ""

    def spans_per_s(self, spans: int) -> float:
        return spans / self.seconds if self.seconds else 0.0


def load(otlp_http: str, query_url: str, prepared: Prepared, senders: int, drain_timeout_s: float) -> Loaded:
    started = time.perf_counter()
    try:
        retries = send_all(f"{otlp_http}/v1/traces", bodies(prepared.path), senders)
    except RuntimeError as exc:
        answered = time.perf_counter() - started
        return Loaded(answered, answered, 0, str(exc))
    answered = time.perf_counter() - started
    last = {trace_id.hex(): prepared.spans_per_trace for trace_id in prepared.trace_ids[-LAST_TRACES:]}
    if wait_until_stored(query_url, last, drain_timeout_s) is None:
        return Loaded(answered, answered, retries, f"the last traces were not queryable within {drain_timeout_s:g}s")
    return Loaded(time.perf_counter() - started, answered, retries)
