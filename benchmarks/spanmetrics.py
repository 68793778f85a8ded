"""What the spanmetrics processor costs on the ingest path: the same work with it off and on, in one run.

Usage (from the repository root): .venv/bin/python -m benchmarks.spanmetrics [--spans 200000]
       [--storage sqlite|memory] [--rounds 5] [--end-to-end-rounds 2] [--clients 4]

The ingest path measured is the backend's own, without HTTP or queues: parse
each OTLP/protobuf request (seeded synthetic traces, 500 spans per request,
as benchmarks.ingest sends), pull out the indexed fields (``otlp.to_batch``),
then write the batch to a fresh storage, either directly ("off") or through
the spanmetrics processor ("on").  Rounds alternate off/on so drift on the
machine hits both alike; the best round of each is compared.  Also printed:
the processor's counting alone, in spans per second.

End to end (``--end-to-end-rounds``, 0 skips it): a ``hotrod backend``
process with the built-in config (processors ``[batch, spanmetrics]``) beside
one with ``[batch]`` only, fed over OTLP/HTTP by ``--clients`` threads until
its own metrics say every span is stored, as benchmarks.ingest does.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from backend.core.component import Refused, Settings
from backend.core.selfmetrics import SelfMetrics
from backend.processors.spanmetrics.processor import SpanMetricsOptions, SpanMetricsProcessor
from backend.spans.model import SpanBatch
from backend.spans.otlp import parse_protobuf, to_batch
from backend.storage.api import Storage
from backend.storage.factory import create_storage
from benchmarks.ingest import Backend, payloads
from loadgen.bench.bulk import send_all
from tests.support import wait_for


def fresh_storage(kind: str, folder: Path, index: int, label: str) -> Storage:
    if kind == "memory":
        return create_storage("memory", {}, "bench")
    return create_storage("sql", {"url": f"sqlite:///{folder / f'{label}-{index}.db'}"}, "bench")


def processor(next_consumer: Callable[[SpanBatch], None]) -> SpanMetricsProcessor:
    class Next:
        def consume(self, batch: SpanBatch) -> None:
            next_consumer(batch)

        def refusal(self) -> Refused | None:
            return None

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


def stored(backend: Backend) -> float:
    """Spans the backend stored, asking /metrics for that one counter: a full scrape renders every
    spanmetrics series (~15 ms for 80 of them), which polled at 100 Hz would be most of what is measured."""
    url = backend.url("metrics", "/metrics?name[]=otelcol_exporter_sent_spans_total")
    families = text_string_to_metric_families(requests.get(url, timeout=5).text)
    return sum(s.value for f in families for s in f.samples if s.name == "otelcol_exporter_sent_spans_total")


def end_to_end(bodies: list[bytes], storage: str, with_spanmetrics: bool, clients: int) -> float:
    """Spans per second into a ``hotrod backend`` process, from the first POST until all are stored."""
    args = ["--storage", storage]
    if not with_spanmetrics:
        args += ["--set", "service.pipelines.traces.processors=[batch]"]
    total = sum(len(to_batch(parse_protobuf(body)).batch) for body in bodies)
    with tempfile.TemporaryDirectory(prefix="spanmetrics-e2e-") as folder:
        backend = Backend(Path(folder), args)
        try:
            started = time.perf_counter()
            send_all(backend.url("otlp-http", "/v1/traces"), bodies, clients)
            wait_for(lambda: stored(backend) >= total, timeout=600, interval=0.01, what=f"{total} spans stored")
            return total / (time.perf_counter() - started)
        finally:
            backend.stop()


def report(title: str, rates: dict[bool, list[float]]) -> None:
    off, on = max(rates[False]), max(rates[True])
    print(title)
    print(f"  spanmetrics off: {off:,.0f} spans/s   (rounds: {', '.join(f'{r:,.0f}' for r in rates[False])})")
    print(f"  spanmetrics on:  {on:,.0f} spans/s   (rounds: {', '.join(f'{r:,.0f}' for r in rates[True])})")
    print(f"  on / off: {on / off:.3f}  ({(1 - on / off) * 100:.1f} % slower with spanmetrics)")


def alternating(rounds: int) -> list[bool]:
    """Off/on in alternating order per round, so drift on the machine weighs on both alike."""
    return [flag for n in range(rounds) for flag in ((False, True) if n % 2 == 0 else (True, False))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--storage", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--end-to-end-rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    bodies, _ = payloads(args.spans, seed=7)
    rates: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="spanmetrics-bench-") as folder:
        for index, with_spanmetrics in enumerate(alternating(args.rounds)):
            storage = fresh_storage(args.storage, Path(folder), index, "bench")
            try:
                rates[with_spanmetrics].append(ingest(bodies, storage, with_spanmetrics))
            finally:
                storage.close()
    report(f"ingest path into {args.storage}, {len(bodies)} requests of 500 spans, best of {args.rounds} rounds", rates)
    print(f"  counting alone: {counting_only(bodies):,.0f} spans/s")
    if args.end_to_end_rounds:
        e2e: dict[bool, list[float]] = {False: [], True: []}
        for with_spanmetrics in alternating(args.end_to_end_rounds):
            e2e[with_spanmetrics].append(end_to_end(bodies, args.storage, with_spanmetrics, args.clients))
        report(f"hotrod backend over OTLP/HTTP, {args.clients} clients, best of {args.end_to_end_rounds} rounds", e2e)


if __name__ == "__main__":
    main()
