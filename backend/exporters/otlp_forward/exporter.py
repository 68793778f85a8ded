"""The ``otlp_forward`` exporter: send every batch on to another collector over OTLP/HTTP (protobuf).

It is how one backend feeds a second one (a real Jaeger v2, another of ours) with the same
traffic, so the two can be compared side by side.  The batch is rebuilt into an
``ExportTraceServiceRequest`` from the stored processes and each span's own serialized bytes,
so nothing is decoded field by field.

Delivery is best effort with bounded retries: connection errors, timeouts and the statuses
the OTLP spec calls retryable (429, 502, 503, 504) are retried with exponential back-off,
honouring ``Retry-After``; any other error status is final at once.  After the last attempt
the spans are counted in ``otelcol_exporter_send_failed_spans`` and the error is raised, as
the storage exporter does, so the batch processor logs the drop.  Give the forwarder its own
pipeline (and batch processor) so a slow peer never holds up storage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import Exporter, ExporterFactory, Host, Settings
from backend.exporters.helper.retry import RetryOptions
from backend.spans.model import SpanBatch
from backend.spans.otlp import decode_span

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
TRACES_PATH = "/v1/traces"


@dataclass
class ForwardRetryOptions(RetryOptions):
    max_attempts: int = 3
    initial_interval: Duration = Duration(200_000_000)
    max_interval: Duration = Duration(5_000_000_000)


@dataclass
class OtlpForwardOptions:
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
    options.retry_on_failure.check(where)
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


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OtlpForwardExporter(Exporter):
    def __init__(self, settings: Settings, options: OtlpForwardOptions) -> None:
        self._settings = settings
        self._options = options
        self._session: requests.Session | None = None
        self._sent = settings.metrics.sent.labels(settings.id)
        self._failed = settings.metrics.send_failed.labels(settings.id)

    def start(self, host: Host) -> None:
        self._session = requests.Session()
        self._session.headers.update({"Content-Type": "application/x-protobuf", **self._options.headers})

    def consume(self, batch: SpanBatch) -> None:
        if not batch.spans:
            return
        body = to_request(batch).SerializeToString()
        retry = self._options.retry_on_failure
        attempts = retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                self._post(body)
            except _Retryable as exc:
                if attempt == attempts:
                    self._give_up(batch, f"{exc} (after {attempts} attempt(s))")
                wait = retry.backoff(attempt)
                if exc.retry_after is not None:
                    wait = min(exc.retry_after, retry.max_interval / 1e9)
                self._settings.logger.warning(
                    "forwarding %d span(s) failed (attempt %d of %d), retrying in %.2fs: %s",
                    len(batch), attempt, attempts, wait, exc,
                )  # fmt: skip
                time.sleep(wait)
                continue
            except Exception as exc:
                self._give_up(batch, str(exc))
            self._sent.inc(len(batch))
            return

    def _post(self, body: bytes) -> None:
        assert self._session is not None, "post before start"
        try:
            reply = self._session.post(self._options.endpoint, data=body, timeout=self._options.timeout / 1e9)
        except requests.RequestException as exc:
            raise _Retryable(f"{self._options.endpoint}: {exc}") from exc
        if reply.ok:
            return
        message = f"{self._options.endpoint} answered {reply.status_code}: {reply.text[:200]}"
        if reply.status_code in RETRYABLE_STATUSES:
            raise _Retryable(message, _retry_after(reply.headers.get("Retry-After")))
        raise RuntimeError(message)

    def _give_up(self, batch: SpanBatch, reason: str) -> None:
        self._failed.inc(len(batch))
        self._settings.logger.error("giving up forwarding %d span(s): %s", len(batch), reason)
        raise RuntimeError(f"forwarding failed: {reason}")

    def shutdown(self) -> None:
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
