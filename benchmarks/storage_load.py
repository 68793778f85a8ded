"""The streamed load of ``benchmarks/storage.py``: spans made a run at a time and written to every store in turn.

Streamed, because ten million decoded spans held in memory before the load
(what the benchmark did up to a million) do not fit beside the stores: a run
of batches (100 k spans by default) is generated and turned into
``SpanBatch``es by the real OTLP decoding (``to_batch``), written, and
dropped, so memory stays flat whatever the number of spans.

What is timed: each store's ``writer().write(batch)`` call alone, wall clock
(``perf_counter``) and this process's CPU (``process_time``) from entering it
to leaving it, summed over the batches.  That is the work the earlier,
preloaded runs timed (their loop did nothing but these calls); generating and
decoding happen between runs and are not counted.  Each run goes to every
store before the next is made, so side-by-side columns load under the same
machine load at nearly the same moment, which is what makes their ratio mean
something on a shared machine.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from backend.spans.model import SpanBatch
from backend.spans.otlp import to_batch
from backend.storage.api import SpanWriter
from loadgen.synthetic import SyntheticTraces, TraceShape

HOUR = 3_600_000_000_000
SPREAD = 6 * HOUR
CHUNKS = 24


@dataclass(frozen=True)
class Plan:
    """``spans`` synthetic spans (10 a trace, 5 services) in batches of ``batch``, chunk by chunk across SPREAD.

    Traces are spread over six hours in CHUNKS chunks, so a one-hour search
    window holds about a sixth of them.  The same plan always makes the same
    spans (seeded), so every store and every run sees identical data.
    """

    spans: int
    batch: int
    base_ns: int

    @property
    def shape(self) -> TraceShape:
        return TraceShape(traces_per_request=max(self.batch // 10, 1))

    @property
    def requests(self) -> int:
        return max(self.spans // self.shape.spans_per_request, 1)

    @property
    def total(self) -> int:
        return self.requests * self.shape.spans_per_request

    def batches(self) -> Iterator[SpanBatch]:
        shape, requests = self.shape, self.requests
        per_chunk = max(requests // CHUNKS, 1)
        for chunk in range(0, requests, per_chunk):
            start = self.base_ns + chunk * SPREAD // requests
            traces = SyntheticTraces(shape, seed=7, base_time_ns=start, stream=chunk)
            for _ in range(min(per_chunk, requests - chunk)):
                yield to_batch(traces.next_request()[0]).batch


@dataclass
class TimedWriter:
    """One store's writer and the time spent inside its ``write`` calls (see the module docstring)."""

    label: str
    writer: SpanWriter
    spans: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    tail_spans: int = 0
    tail_wall: float = 0.0

    def write(self, batch: SpanBatch, tail: bool) -> None:
        began, cpu_began = time.perf_counter(), time.process_time()
        self.writer.write(batch)
        wall = time.perf_counter() - began
        self.cpu += time.process_time() - cpu_began
        self.wall += wall
        self.spans += len(batch.spans)
        if tail:
            self.tail_wall += wall
            self.tail_spans += len(batch.spans)

    def results(self) -> dict[str, str]:
        return {
            "insert spans/s overall": f"{self.spans / self.wall:,.0f}",
            "insert spans/s, last tenth": f"{self.tail_spans / self.tail_wall:,.0f}",
            "insert spans per CPU second": f"{self.spans / self.cpu:,.0f}",
        }


class Progress:
    """A line every ``every`` seconds during a long load: spans done, rates, time left."""

    def __init__(self, total: int, every: float) -> None:
        self._total, self._every = total, every
        self._began = self._last = time.perf_counter()
        self.done = 0

    def advance(self, spans: int, writers: Sequence[TimedWriter]) -> None:
        self.done += spans
        now = time.perf_counter()
        if now - self._last >= self._every or self.done >= self._total:
            self._last = now
            self._print(now - self._began, writers)

    def _print(self, elapsed: float, writers: Sequence[TimedWriter]) -> None:
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self._total - self.done) / rate if rate > 0 else 0.0
        writes = "; ".join(f"{w.label} {w.spans / w.wall:,.0f}" for w in writers if w.wall > 0)
        print(
            f"  {self.done:,} / {self._total:,} spans ({100 * self.done / self._total:.0f} %) in {_clock(elapsed)}:"
            f" {rate:,.0f} spans/s with generation, ETA {_clock(left)}; writes spans/s: {writes}",
            flush=True,
        )


def load(
    plan: Plan, writers: Sequence[TimedWriter], picks: int, ahead: int = 100_000, every: float = 10.0
) -> list[bytes]:
    """Write every batch of ``plan`` to each writer in turn; the trace ids of ``picks`` random spans, shuffled.

    Batches are made ``ahead`` spans at a time, then each writer writes that
    run of batches back to back, as the preloaded runs wrote all of theirs:
    writing each batch right after making it measured 10-30 % fewer spans per
    CPU-second at 300 k spans (the making's young objects and cache misses
    land inside the timed calls), which would not compare with earlier runs.
    """
    count = plan.requests
    tail_from = count - count // 10
    rand = random.Random(1)
    wanted = Counter(rand.randrange(count) for _ in range(picks))
    trace_ids: list[bytes] = []
    progress = Progress(plan.total, every)
    made = enumerate(plan.batches())
    while run := list(islice(made, max(ahead // plan.batch, 1))):
        for writer in writers:
            for index, batch in run:
                writer.write(batch, index >= tail_from)
        for index, batch in run:
            trace_ids.extend(rand.choice(batch.spans).trace_id for _ in range(wanted[index]))
        progress.advance(sum(len(batch.spans) for _, batch in run), writers)
    rand.shuffle(trace_ids)
    return trace_ids


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"
