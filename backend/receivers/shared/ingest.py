"""What both OTLP transports do with a parsed request: decode to a batch, hand it on, count."""

from __future__ import annotations

import logging

from backend.core.component import Consumer, Refused
from backend.core.selfmetrics import SelfMetrics
from backend.spans.otlp import Decoded, Dropped, TraceRequest, to_batch


class Ingest:
    def __init__(self, receiver_id: str, transport: str, consumer: Consumer, metrics: SelfMetrics, log: logging.Logger):
        self._consumer = consumer
        self._log = log
        self._accepted = metrics.accepted.labels(receiver_id, transport)
        self._refused = metrics.refused.labels(receiver_id, transport)
        self._rejected = metrics.rejected.labels(receiver_id, transport)
        self._failed = metrics.failed_requests
        self._labels = (receiver_id, transport)

    def admit(self) -> None:
        """Raise ``Refused`` before a request is decoded when the pipeline would refuse its spans anyway."""
        refused = self._consumer.refusal()
        if refused is not None:
            self.failed("refused")
            raise refused

    def export(self, request: TraceRequest, dropped: Dropped | None = None, body: bytes | None = None) -> Decoded:
        """Hand the request's valid spans on; raises ``Refused`` when the pipeline did not take them.

        ``body``: the protobuf it was parsed from (``to_batch``)."""
        decoded = to_batch(request, dropped, body)
        if decoded.rejected:
            self._rejected.inc(decoded.rejected)
        count = len(decoded.batch)
        if count:
            try:
                self._consumer.consume(decoded.batch)
            except Refused:
                self._refused.inc(count)
                self.failed("refused")
                raise
            except Exception as exc:
                self._refused.inc(count)
                self.failed("pipeline_error")
                self._log.exception("the pipeline failed on %d span(s)", count)
                raise Refused(f"the pipeline failed: {exc}", overloaded=False) from exc
            self._accepted.inc(count)
        return decoded

    def failed(self, reason: str) -> None:
        """Count a request answered with an error (malformed, too large, refused ...)."""
        self._failed.labels(*self._labels, reason).inc()
