"""A tail_sampling processor driven directly, with a next consumer that records (or refuses) what it is given."""

from __future__ import annotations

import logging
import threading
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Status

from backend.core.component import Refused, Settings
from backend.core.selfmetrics import SelfMetrics
from backend.processors.tail_sampling.processor import FACTORY, TailSamplingProcessor
from backend.spans.model import SpanBatch
from tests.builders import SpanSpec, batch_of
from tests.support import wait_for

MS = 1_000_000
ERROR = Status.STATUS_CODE_ERROR
WHERE = "test: processors.tail_sampling"


class Taker:
    """The next consumer: keeps every batch; refuses while ``refusing`` is set (or ``refuse_next`` times)."""

    def __init__(self) -> None:
        self.batches: list[SpanBatch] = []
        self.refusing = threading.Event()
        self.refuse_next = 0
        self.refused = 0
        self._lock = threading.Lock()

    def consume(self, batch: SpanBatch) -> None:
        with self._lock:
            if self.refusing.is_set() or self.refuse_next:
                self.refuse_next = max(self.refuse_next - 1, 0)
                self.refused += 1
                raise Refused("storage is full", retry_after=0.01)
            self.batches.append(batch)

    def refusal(self) -> Refused | None:
        return None

    @property
    def trace_ids(self) -> list[bytes]:
        """Each trace id once per batch it came in, in delivery order."""
        with self._lock:
            return [tid for batch in self.batches for tid in dict.fromkeys(span.trace_id for span in batch.spans)]

    @property
    def span_count(self) -> int:
        with self._lock:
            return sum(len(batch) for batch in self.batches)


def tail_sampler(
    taker: Taker, policies: list[dict[str, Any]], clock: Any = None, metrics: SelfMetrics | None = None, **options: Any
) -> TailSamplingProcessor:
    """A started processor; ``decision_wait`` is an hour unless given, so decisions come from shutdown or overflow."""
    raw = {"decision_wait": "1h", "policies": policies, **options}
    settings = Settings("tail_sampling", WHERE, metrics or SelfMetrics(), logging.getLogger("test.tail_sampling"))
    extra = {"clock": clock} if clock is not None else {}
    processor = TailSamplingProcessor(settings, FACTORY.options(raw, WHERE), taker, **extra)
    processor.start(None)
    return processor


def trace(service: str = "shop", spans: int = 2, duration_ms: int = 10, **root: Any) -> list[SpanSpec]:
    """A root span and ``spans - 1`` children inside it; ``root`` overrides fields of the root."""
    top = SpanSpec(service, "GET /checkout", duration_ns=duration_ms * MS, **root)
    return [top, *(top.child(service, f"step {i}", duration_ns=MS) for i in range(spans - 1))]


def kept(taker: Taker, traces: list[list[SpanSpec]]) -> list[int]:
    """Indexes of ``traces`` whose spans reached the next consumer."""
    delivered = set(taker.trace_ids)
    return [i for i, specs in enumerate(traces) if specs[0].trace_id in delivered]


def decide_all(processor: TailSamplingProcessor, traces: list[list[SpanSpec]]) -> None:
    """Send every trace in one batch, then shut down: every held trace is decided and delivered."""
    processor.consume(batch_of([spec for specs in traces for spec in specs]))
    processor.shutdown()


def offer(processor: TailSamplingProcessor, batch: SpanBatch) -> None:
    """Consume ``batch``, retrying while it is refused, as a receiver's client would."""

    def taken() -> bool:
        processor.consume(batch)
        return True

    wait_for(taken, timeout=10, what="the batch taken")
