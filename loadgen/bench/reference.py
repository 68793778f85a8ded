"""The reference every ingest figure is set beside: merely decoding the same OTLP requests in Python.

A backend cannot store spans faster than it can parse them, so "spans/s
stored end to end" means most as a share of "spans/s parsed and walked",
measured in the same run on the same machine and the same payloads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def decode_and_walk(bodies: Iterable[bytes]) -> float:
    """Spans per CPU-second to parse every request and touch every span field and attribute once.

    CPU time, not wall time: on an idle core they agree, and on a busy machine CPU time still does.
    """
    started = time.process_time()
    spans = 0
    sink = 0
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attribute in resource_spans.resource.attributes:
                sink += len(attribute.key) + len(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans += 1
                    sink += len(span.trace_id) + len(span.span_id) + len(span.parent_span_id) + len(span.name)
                    sink += span.kind + span.start_time_unix_nano + span.end_time_unix_nano + span.status.code
                    for attribute in span.attributes:
                        value = attribute.value
                        sink += len(attribute.key) + len(
                            str(getattr(value, value.WhichOneof("value") or "string_value"))
                        )
                    for event in span.events:
                        sink += event.time_unix_nano + len(event.name) + len(event.attributes)
                    for link in span.links:
                        sink += len(link.trace_id) + len(link.attributes)
    assert sink
    return spans / (time.process_time() - started)
