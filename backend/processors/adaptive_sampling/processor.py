"""The ``adaptive_sampling`` processor: shows every batch's root spans to adaptive sampling, passes it on.

Counting never holds data back: if it fails, the error is logged and the
batch still goes to the next consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.core.binding import bind
from backend.core.component import Consumer, Host, Observer, ProcessorFactory, Settings
from backend.extensions.remote_sampling.extension import find_adaptive
from backend.sampling.adaptive.engine import AdaptiveSampling
from backend.spans.model import SpanBatch


@dataclass
class AdaptiveSamplingOptions:
    """None: like Jaeger's, the processor takes its settings from the remote_sampling extension."""


def _options(raw: Any, where: str) -> AdaptiveSamplingOptions:
    return bind(AdaptiveSamplingOptions, raw, where)


class AdaptiveSamplingProcessor(Observer[AdaptiveSamplingOptions]):
    def __init__(self, settings: Settings, options: AdaptiveSamplingOptions, next_consumer: Consumer):
        super().__init__(settings, options, next_consumer)
        self._adaptive: AdaptiveSampling | None = None

    def start(self, host: Host) -> None:
        self._adaptive = find_adaptive(host, self._settings.where)

    def observe(self, batch: SpanBatch) -> None:
        if self._adaptive is not None:
            self._adaptive.handle_batch(batch)

    def shutdown(self) -> None:
        self._adaptive = None


FACTORY = ProcessorFactory("adaptive_sampling", _options, AdaptiveSamplingProcessor)
