"""The span batch that every backend component passes along.

Receivers turn whatever arrives (OTLP today, legacy protocols later) into a
``SpanBatch``; processors look at the indexed fields; storage keeps them.  Only
the fields that storage indexes are pulled out of the protobuf: everything
else stays inside ``SpanRecord.payload``, the span's own serialized OTLP bytes,
and is decoded only when a trace is read.  That is what keeps ingest near the
speed of protobuf parsing itself.

A *process* is an OTLP resource together with the instrumentation scope that
produced the span (Jaeger folds both into its "process").  Many spans share
one, so a batch carries each process once, keyed by a digest of its bytes,
and spans refer to it by that key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# OTLP SpanKind values (opentelemetry.proto.trace.v1.Span.SpanKind).
KIND_UNSPECIFIED = 0
KIND_INTERNAL = 1
KIND_SERVER = 2
KIND_CLIENT = 3
KIND_PRODUCER = 4
KIND_CONSUMER = 5

KIND_NAMES = {
    KIND_UNSPECIFIED: "unspecified",
    KIND_INTERNAL: "internal",
    KIND_SERVER: "server",
    KIND_CLIENT: "client",
    KIND_PRODUCER: "producer",
    KIND_CONSUMER: "consumer",
}
KIND_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}

# OTLP Status.StatusCode values.  STATUS_UNSET is also the code of a span with no status at all, which readers
# test for (``span.HasField("status")``) before they read ``span.status``: protobuf's runtime (upb, 7.x) gives an
# unset sub-message an arena of its own on every access and frees it again, and every 10,000 arena frees it calls
# glibc's malloc_trim, which hands every free page of the process back to the kernel, to be faulted in again.  Read
# unguarded for every span of a tracegen load (most have no status), that was ~9 trims a second and ~120 ns a span.
STATUS_UNSET = 0
STATUS_OK = 1
STATUS_ERROR = 2


@dataclass(slots=True)
class SpanRecord:
    """One span: the fields storage indexes, plus the span's own OTLP bytes.

    ``payload`` is ``opentelemetry.proto.trace.v1.Span`` serialized; the
    ``process_id`` names an entry of the batch's (or the store's) processes.
    Times are nanoseconds since the Unix epoch, as in OTLP.
    """

    trace_id: bytes  # 16 bytes
    span_id: bytes  # 8 bytes
    parent_span_id: bytes  # 8 bytes, or b"" for a root span
    service: str
    name: str
    kind: int
    start_ns: int
    duration_ns: int
    status_code: int
    process_id: bytes
    payload: bytes

    @property
    def is_root(self) -> bool:
        return not self.parent_span_id


@dataclass(slots=True)
class SpanBatch:
    """What flows through the pipeline: spans and the processes they refer to.

    ``processes`` maps a process id to a serialized
    ``opentelemetry.proto.trace.v1.ResourceSpans`` that holds the resource and
    a single ``ScopeSpans`` with the scope and no spans.

    ``on_stored`` are callbacks the exporter at the end of the pipeline calls
    once it delivered the batch (for the storage exporter: committed it), so
    that a receiver reading a durable source (a Redis stream) acknowledges an
    entry only then, whatever queues the batch went through.  Merged batches
    carry every part's callbacks.
    """

    spans: list[SpanRecord] = field(default_factory=list)
    processes: dict[bytes, bytes] = field(default_factory=dict)
    on_stored: list[Callable[[], None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.spans)

    def extend(self, other: SpanBatch) -> None:
        self.spans.extend(other.spans)
        self.processes.update(other.processes)
        self.on_stored.extend(other.on_stored)

    def stored(self) -> None:
        """Run (once) the callbacks of whoever waits for this batch to be delivered."""
        callbacks, self.on_stored = self.on_stored, []
        for callback in callbacks:
            callback()
