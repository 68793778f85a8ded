"""Builds the traces pipelines from config: receivers → processors → exporters.

As in the Collector, a receiver or exporter named by several pipelines is one
instance (a receiver fans out to every pipeline that lists it), while each
pipeline gets its own instance of its processors.  Start goes from the end
of the data path to its beginning (exporters first, so nothing is received
before it can be delivered); shutdown goes the other way: receivers stop
taking data, each processor drains into the next, then exporters stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from backend.config import ComponentConfig, Config
from backend.core.component import (
    Component,
    Consumer,
    Exporter,
    ExporterFactory,
    Host,
    Processor,
    ProcessorFactory,
    Receiver,
    ReceiverFactory,
    Refused,
    Settings,
)
from backend.core.selfmetrics import SelfMetrics
from backend.spans.model import SpanBatch


class FanOut:
    """Hands each batch to several consumers; fails if any of them fails (after trying all)."""

    def __init__(self, consumers: list[Consumer]) -> None:
        self._consumers = consumers

    def consume(self, batch: SpanBatch) -> None:
        """Each consumer gets its own copy of the batch whose ``on_stored`` fires the original's after the last."""
        failure: Exception | None = None
        copies = [batch] * len(self._consumers)
        if batch.on_stored:
            countdown = _Countdown(len(self._consumers), batch.stored)
            copies = [SpanBatch(batch.spans, batch.processes, [countdown]) for _ in self._consumers]
        for consumer, copy in zip(self._consumers, copies, strict=True):
            try:
                consumer.consume(copy)
            except Exception as exc:
                failure = exc
        if failure is not None:
            raise failure

    def refusal(self) -> Refused | None:
        for consumer in self._consumers:
            refused = consumer.refusal()
            if refused is not None:
                return refused
        return None


class _Countdown:
    def __init__(self, count: int, then: Callable[[], None]) -> None:
        self._count = count
        self._then = then
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self._count -= 1
            done = self._count == 0
        if done:
            self._then()


def _fan_out(consumers: list[Consumer]) -> Consumer:
    return consumers[0] if len(consumers) == 1 else FanOut(consumers)


def settings_for(kind: str, component: ComponentConfig, metrics: SelfMetrics) -> Settings:
    return Settings(component.id, component.where, metrics, logging.getLogger(f"backend.{kind}.{component.id}"))


class Pipelines:
    def __init__(self, config: Config, metrics: SelfMetrics) -> None:
        self.exporters: dict[str, Exporter] = {}
        self.processors: list[Processor] = []  # in data order within each pipeline
        self.receivers: dict[str, Receiver] = {}
        heads: dict[str, list[Consumer]] = {}  # receiver id → first consumer of each pipeline it feeds
        for pipeline in config.pipelines.values():
            for eid in pipeline.exporters:
                if eid not in self.exporters:
                    component = config.exporters[eid]
                    settings = settings_for("exporter", component, metrics)
                    factory = component.factory
                    assert isinstance(factory, ExporterFactory)  # config.py files each id under its kind
                    self.exporters[eid] = factory.create(settings, component.options)
            consumer = _fan_out([self.exporters[eid] for eid in pipeline.exporters])
            chain: list[Processor] = []
            for pid in reversed(pipeline.processors):
                component = config.processors[pid]
                settings = settings_for("processor", component, metrics)
                processor_factory = component.factory
                assert isinstance(processor_factory, ProcessorFactory)
                processor = processor_factory.create(settings, component.options, consumer)
                chain.insert(0, processor)
                consumer = processor
            self.processors.extend(chain)
            for rid in pipeline.receivers:
                heads.setdefault(rid, []).append(consumer)
        for rid, consumers in heads.items():
            component = config.receivers[rid]
            settings = settings_for("receiver", component, metrics)
            receiver_factory = component.factory
            assert isinstance(receiver_factory, ReceiverFactory)
            self.receivers[rid] = receiver_factory.create(settings, component.options, _fan_out(consumers))
        self._started: list[Component] = []

    def start(self, host: Host) -> None:
        """Start exporters, then processors (last first), then receivers; raises on the first failure."""
        order: list[Component] = [*self.exporters.values(), *reversed(self.processors), *self.receivers.values()]
        for component in order:
            self._started.append(component)  # before start: a half-started component must be shut down too
            component.start(host)

    def shutdown(self, log: logging.Logger) -> None:
        """Receivers, then processors in data order (each drains into the next), then exporters."""
        order: list[Component] = [*self.receivers.values(), *self.processors, *self.exporters.values()]
        for component in order:
            if component in self._started:
                try:
                    component.shutdown()
                except Exception:
                    log.exception("shutting down %s failed", type(component).__name__)
        self._started.clear()

    def endpoints(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for receiver in self.receivers.values():
            found.update(receiver.endpoints())
        return found
