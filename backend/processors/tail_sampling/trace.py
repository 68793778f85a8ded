"""One trace as the tail sampler holds it: its spans so far, the processes they refer to, when it was first seen.

Policies mostly read the indexed span fields (status, start, duration);
only ``string_values`` decodes payloads, and only for the key a
``string_attribute`` policy asks about.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from backend.spans.model import SpanBatch, SpanRecord
from backend.spans.otlp import decode_span


@dataclass(slots=True)
class HeldTrace:
    trace_id: bytes
    first_seen: float  # monotonic seconds
    spans: list[SpanRecord] = field(default_factory=list)
    processes: dict[bytes, bytes] = field(default_factory=dict)

    def add(self, spans: list[SpanRecord], processes: dict[bytes, bytes]) -> None:
        self.spans.extend(spans)
        for span in spans:
            if span.process_id not in self.processes and span.process_id in processes:
                self.processes[span.process_id] = processes[span.process_id]

    def duration_ns(self) -> int:
        """From the earliest start to the latest end, whatever happened in between (as the Collector measures)."""
        start = min(span.start_ns for span in self.spans)
        end = max(span.start_ns + span.duration_ns for span in self.spans)
        return end - start

    def string_values(self, key: str) -> Iterator[str]:
        """Every string value of ``key`` among the trace's resource attributes, then its span attributes."""
        for blob in self.processes.values():
            for attribute in ResourceSpans.FromString(blob).resource.attributes:
                if attribute.key == key and attribute.value.HasField("string_value"):
                    yield attribute.value.string_value
        for record in self.spans:
            span, _ = decode_span(record)
            for attribute in span.attributes:
                if attribute.key == key and attribute.value.HasField("string_value"):
                    yield attribute.value.string_value


def to_batch(traces: list[HeldTrace]) -> SpanBatch:
    batch = SpanBatch()
    for trace in traces:
        batch.spans.extend(trace.spans)
        batch.processes.update(trace.processes)
    return batch
