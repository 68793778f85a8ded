"""What the ClickHouse micro-benchmarks share: an embedded store filled with tracegen spans, and timing.

The spans go in through the plug-in's own writer in the exporter's batch size, as in a backend, so
the tables hold what ``hotrod bench --dataset jaeger-clickhouse`` stores, without the HTTP path.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from backend.core.binding import Duration
from backend.exporters.helper.options import QueueBatchOptions
from backend.spans.model import SpanBatch
from backend.spans.otlp import parse_protobuf, to_batch
from backend.storage.clickhouse.config import ClickHouseOptions
from backend.storage.clickhouse.store import ClickHouseStorage
from loadgen.tracegen import Tracegen, TracegenShape

BATCH_SPANS = QueueBatchOptions().max_size


def batches(generator: Tracegen, size: int = BATCH_SPANS) -> Iterator[SpanBatch]:
    """The generator's requests decoded as the OTLP receiver does, merged up to ``size`` spans (by default the
    sending queue's batch size)."""
    merged = SpanBatch()
    for request in generator.requests():
        merged.extend(to_batch(parse_protobuf(request.SerializeToString())).batch)
        if len(merged) >= size:
            yield merged
            merged = SpanBatch()
    if merged.spans:
        yield merged


def filled_store(folder: Path, traces: int) -> tuple[ClickHouseStorage, list[bytes]]:
    """An embedded store in ``folder`` holding ``traces`` tracegen traces over 10 days; their ids."""
    generator = Tracegen(TracegenShape(traces=traces), end_ns=time.time_ns())
    storage = ClickHouseStorage(ClickHouseOptions(path=str(folder), retention=Duration(0)))
    writer = storage.writer()
    for batch in batches(generator):
        writer.write(batch)
    return storage, generator.trace_ids


@contextmanager
def scratch_store(traces: int, prefix: str) -> Iterator[tuple[ClickHouseStorage, list[bytes]]]:
    """``filled_store`` in a scratch folder, closed and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        storage, trace_ids = filled_store(folder, traces)
        try:
            yield storage, trace_ids
        finally:
            storage.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def timed(work: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, CPU ms a run) over ``runs`` runs after one warm-up; CPU is the process's, engine included."""
    work()
    walls = []
    cpu_started = time.process_time()
    for _ in range(runs):
        started = time.perf_counter()
        work()
        walls.append((time.perf_counter() - started) * 1e3)
    cpu_ms = (time.process_time() - cpu_started) * 1e3 / runs
    walls.sort()
    p99 = walls[min(len(walls) - 1, round(0.99 * (len(walls) - 1)))]
    return statistics.median(walls), p99, cpu_ms


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"
