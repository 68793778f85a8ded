"""Loading the dataset: requests generated once into a file, then sent as fast as the backend takes them.

The requests are written before the clock starts (generating them in Python
costs more CPU than storing them), as length-prefixed protobuf, and streamed
from that file by ``senders`` threads, so memory stays flat whatever the size
(only the trace ids are held, 16 bytes each).  A refusal (429, 503) is retried
after a short pause, so every span is stored and the rate is what the backend
sustains.  The clock stops when the last traces sent can be read back whole.
Both phases report progress every ``PROGRESS_EVERY_S``: a 10 M-span run
prepares for minutes and loads for tens of minutes.  ``save`` and ``saved``
keep what the queries need to know about the data (its window, its trace ids)
beside it, so the queries can be run again on the loaded data later.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from loadgen.bench.bulk import send_all
from loadgen.bench.verify import wait_until_stored
from loadgen.tracegen import Tracegen, TracegenShape

_LENGTH = struct.Struct(">I")
LAST_TRACES = 20  # the traces whose arrival marks the load as stored
PROGRESS_EVERY_S = 30.0
TRACE_ID_BYTES = 16
MANIFEST = "prepared.json"
TRACE_IDS = "trace-ids.bin"

Say = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    path: Path
    requests: int
    shape: TracegenShape
    trace_ids: list[bytes]
    start_ns: int
    end_ns: int

    @property
    def spans(self) -> int:
        return self.shape.spans

    @property
    def spans_per_trace(self) -> int:
        return self.shape.children + 1


def prepare(generator: Tracegen, path: Path, say: Say) -> Prepared:
    shape = generator.shape
    total = -(-shape.traces // shape.traces_per_request)
    count = 0
    with path.open("wb") as out:
        for request in _reporting(generator.requests(), total, shape.traces_per_request * (shape.children + 1), say):
            body = request.SerializeToString()
            out.write(_LENGTH.pack(len(body)))
            out.write(body)
            count += 1
    end_ns = generator.start_ns + shape.span_ns
    return Prepared(path, count, shape, generator.trace_ids, generator.start_ns, end_ns)


def save(prepared: Prepared, folder: Path) -> None:
    """Write the data's description and trace ids beside it, for ``saved`` (a later run of the queries alone)."""
    (folder / TRACE_IDS).write_bytes(b"".join(prepared.trace_ids))
    description = {name: value for name, value in asdict(prepared).items() if name != "trace_ids"}
    (folder / MANIFEST).write_text(json.dumps({**description, "path": str(prepared.path)}, indent=2))


def saved(folder: Path) -> Prepared:
    """What ``save`` wrote in ``folder``; a clear error when a run there did not finish loading."""
    try:
        description = json.loads((folder / MANIFEST).read_text())
        ids = (folder / TRACE_IDS).read_bytes()
    except FileNotFoundError as exc:
        raise ValueError(f"{folder} holds no loaded data ({exc.filename} is missing)") from None
    trace_ids = [ids[at : at + TRACE_ID_BYTES] for at in range(0, len(ids), TRACE_ID_BYTES)]
    shape = TracegenShape(**description["shape"])
    return Prepared(**{**description, "path": Path(description["path"]), "shape": shape, "trace_ids": trace_ids})


def _reporting(items: Iterable[T], total: int, spans_each: int, say: Say) -> Iterator[T]:
    """``items`` unchanged, saying every ``PROGRESS_EVERY_S`` how many of ``total`` have gone, how fast, and the ETA."""
    started = last = time.monotonic()
    for done, item in enumerate(items):
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S and done:
            last = now
            rate = done / (now - started)
            say(
                f"  {done * spans_each:,} of {total * spans_each:,} spans ({100 * done / total:.0f}%), "
                f"{rate * spans_each:,.0f} spans/s, about {(total - done) / rate / 60:.0f} min left"
            )
        yield item


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


def load(otlp_http: str, query_url: str, prepared: Prepared, senders: int, drain_timeout_s: float, say: Say) -> Loaded:
    started = time.perf_counter()
    spans_each = prepared.spans // max(prepared.requests, 1)
    sent = _reporting(bodies(prepared.path), prepared.requests, spans_each, say)
    try:
        retries = send_all(f"{otlp_http}/v1/traces", sent, senders)
    except RuntimeError as exc:
        answered = time.perf_counter() - started
        return Loaded(answered, answered, 0, str(exc))
    answered = time.perf_counter() - started
    say(f"  every request answered after {answered:,.0f} s; waiting for the last traces to be queryable …")
    last = {trace_id.hex(): prepared.spans_per_trace for trace_id in prepared.trace_ids[-LAST_TRACES:]}
    if wait_until_stored(query_url, last, drain_timeout_s) is None:
        return Loaded(answered, answered, retries, f"the last traces were not queryable within {drain_timeout_s:g}s")
    return Loaded(time.perf_counter() - started, answered, retries)
