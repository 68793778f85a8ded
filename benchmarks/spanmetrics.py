"""What the spanmetrics processor costs on the ingest path: the same work with it off and on, in one run.

Usage (from the repository root): .venv/bin/python -m benchmarks.spanmetrics [--spans 200000]
       [--storage sqlite|memory] [--rounds 5]

The ingest path measured is the backend's own, without HTTP or queues: parse
each OTLP/protobuf request (seeded synthetic traces, 500 spans per request,
as benchmarks.ingest sends), pull out the indexed fields (``otlp.to_batch``),
then write the batch to a fresh storage, either directly ("off") or through
the spanmetrics processor ("on").  Rounds alternate off/on so drift on the
machine hits both alike; the best round of each is compared.  Also printed:
the processor's counting alone, in spans per second.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from backend.component import Settings
from backend.model import SpanBatch
from backend.otlp import parse_protobuf, to_batch
from backend.processors.spanmetrics import SpanMetricsOptions, SpanMetricsProcessor
from backend.selfmetrics import SelfMetrics
from backend.storage.api import Storage
from backend.storage.factory import create_storage
from benchmarks.ingest import payloads


def fresh_storage(kind: str, folder: Path, round_number: int, label: str) -> Storage:
    if kind == "memory":
        return create_storage("memory", {}, "bench")
    return create_storage("sql", {"url": f"sqlite:///{folder / f'{label}-{round_number}.db'}"}, "bench")


def processor(next_consumer: Callable[[SpanBatch], None]) -> SpanMetricsProcessor:
    class Next:
        def consume(self, batch: SpanBatch) -> None:
            next_consumer(batch)

    settings = Settings("spanmetrics", "bench", SelfMetrics(), logging.getLogger("bench"))
    return SpanMetricsProcessor(settings, SpanMetricsOptions(storage="bench"), Next())


def ingest(bodies: list[bytes], storage: Storage, with_spanmetrics: bool) -> float:
    """Spans per second through parse → to_batch → (spanmetrics →) storage write."""
    writer = storage.writer()
    consume = processor(writer.write).consume if with_spanmetrics else writer.write
    spans = 0
    started = time.perf_counter()
    for body in bodies:
        batch = to_batch(parse_protobuf(body)).batch
        spans += len(batch)
        consume(batch)
    return spans / (time.perf_counter() - started)


def counting_only(bodies: list[bytes]) -> float:
    batches = [to_batch(parse_protobuf(body)).batch for body in bodies]
    counter = processor(lambda batch: None)
    spans = sum(len(batch) for batch in batches)
    started = time.perf_counter()
    for batch in batches:
        counter.aggregator.add(batch.spans)
    return spans / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--storage", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bodies, _ = payloads(args.spans, seed=7)
    rates: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="spanmetrics-bench-") as folder:
        for round_number in range(args.rounds):
            for with_spanmetrics in (False, True) if round_number % 2 == 0 else (True, False):
                label = "on" if with_spanmetrics else "off"
                storage = fresh_storage(args.storage, Path(folder), round_number, label)
                try:
                    rates[with_spanmetrics].append(ingest(bodies, storage, with_spanmetrics))
                finally:
                    storage.close()
    off, on = max(rates[False]), max(rates[True])
    print(f"ingest path into {args.storage}, {len(bodies)} requests of 500 spans, best of {args.rounds} rounds each")
    print(f"  spanmetrics off: {off:,.0f} spans/s   (rounds: {', '.join(f'{r:,.0f}' for r in rates[False])})")
    print(f"  spanmetrics on:  {on:,.0f} spans/s   (rounds: {', '.join(f'{r:,.0f}' for r in rates[True])})")
    print(f"  on / off: {on / off:.3f}  ({(1 - on / off) * 100:.1f} % slower with spanmetrics)")
    print(f"  counting alone: {counting_only(bodies):,.0f} spans/s")


if __name__ == "__main__":
    main()
