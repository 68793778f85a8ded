"""The ``otlp_forward`` exporter: send every batch on to another collector over OTLP/HTTP (protobuf).

It is how one backend feeds a second one (a real Jaeger v2, another of ours) with the same
traffic, so the two can be compared side by side.  The batch is rebuilt into an
``ExportTraceServiceRequest`` from the stored processes and each span's own serialized bytes,
so nothing is decoded field by field.

Delivery is best effort, the one exception to "nothing is dropped": a second copy for
comparison must never hold up the pipeline that stores.  The exporter helper queues and
retries (connection errors, timeouts and the statuses the OTLP spec calls retryable, 429,
502, 503, 504, honouring ``Retry-After``) for at most ``retry_on_failure.max_elapsed_time``
(the Collector's 5 minutes by default); any other error status is final at once; a batch
that finds the sending queue full is dropped instead of refused.  Every span given up is
counted in ``otelcol_exporter_send_failed_spans`` or ``otelcol_exporter_enqueue_failed_spans``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import ExporterFactory, Host, Settings
from backend.exporters.helper import HelperOptions, Permanent, QueuedExporter, RetryOptions, Throttled
from backend.spans.model import SpanBatch
from backend.spans.otlp import decode_span

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
TRACES_PATH = "/v1/traces"


@dataclass
class ForwardRetryOptions(RetryOptions):
    max_elapsed_time: Duration = Duration(300_000_000_000)


@dataclass
class OtlpForwardOptions(HelperOptions):
    #: base URL (``http://jaeger:4318``, ``/v1/traces`` is added) or the full traces URL
    endpoint: str = ""
    timeout: Duration = Duration(5_000_000_000)
    headers: dict[str, str] = field(default_factory=dict)
    retry_on_failure: ForwardRetryOptions = field(default_factory=ForwardRetryOptions)


def _options(raw: Any, where: str) -> OtlpForwardOptions:
    options = bind(OtlpForwardOptions, raw, where)
    parts = urlsplit(options.endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        got = f"got {options.endpoint!r}"
        raise ConfigError(f"{where}.endpoint", f"expected an http(s) URL such as http://jaeger:4318, {got}")
    if parts.path in ("", "/"):
        options.endpoint = options.endpoint.rstrip("/") + TRACES_PATH
    if options.timeout <= 0:
        raise ConfigError(f"{where}.timeout", "expected a positive duration such as 5s")
    options.check_helper(where)
    return options


def to_request(batch: SpanBatch) -> ExportTraceServiceRequest:
    """The OTLP request carrying ``batch``: one ResourceSpans per process, spans in batch order."""
    request = ExportTraceServiceRequest()
    by_process: dict[bytes, ResourceSpans] = {}
    for span in batch.spans:
        resource_spans = by_process.get(span.process_id)
        if resource_spans is None:
            resource_spans = request.resource_spans.add()
            resource_spans.MergeFromString(batch.processes.get(span.process_id, b""))
            if not resource_spans.scope_spans:
                resource_spans.scope_spans.add()
            by_process[span.process_id] = resource_spans
        resource_spans.scope_spans[0].spans.append(decode_span(span)[0])
    return request


class OtlpForwardExporter(QueuedExporter):
    best_effort = True

    def __init__(self, settings: Settings, options: OtlpForwardOptions) -> None:
        super().__init__(settings, options)
        self._options = options
        self._session: requests.Session | None = None

    def start(self, host: Host) -> None:
        self._session = requests.Session()
        self._session.headers.update({"Content-Type": "application/x-protobuf", **self._options.headers})
        super().start(host)

    def send(self, batch: SpanBatch) -> None:
        assert self._session is not None
        body = to_request(batch).SerializeToString()
        try:
            reply = self._session.post(self._options.endpoint, data=body, timeout=self._options.timeout / 1e9)
        except requests.RequestException as exc:
            raise ConnectionError(f"{self._options.endpoint}: {exc}") from exc
        if reply.ok:
            return
        message = f"{self._options.endpoint} answered {reply.status_code}: {reply.text[:200]}"
        if reply.status_code not in RETRYABLE_STATUSES:
            raise Permanent(message)
        raise Throttled(message, _retry_after(reply.headers.get("Retry-After")), reply.status_code == 429)

    def shutdown(self) -> None:
        super().shutdown()
        if self._session is not None:
            self._session.close()
            self._session = None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header in seconds; an HTTP date or junk means "use the back-off"."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


FACTORY = ExporterFactory("otlp_forward", _options, OtlpForwardExporter)
