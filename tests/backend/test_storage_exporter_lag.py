"""The storage exporter over the memory store refuses before decoding while the receiving loop is too far behind.

Driven directly: ``refusal()`` asked on an event loop, or a worker of a ``LaggingPool``, whose round a
blocking sleep makes slow, as a receiver's loop or workers starved of the GIL are.  The end-to-end proof
is ``test_memory_receive_lag``.
"""

from __future__ import annotations

import logging
import time

from backend.core.component import Refused, Settings
from backend.core.lag import LaggingPool
from backend.core.selfmetrics import SelfMetrics
from backend.exporters.storage.exporter import FACTORY as EXPORTER
from backend.exporters.storage.exporter import StorageExporter
from backend.extensions.storage.extension import FACTORY as JAEGER_STORAGE
from tests.backend.test_sending_queue import Host, spans
from tests.support import run_on_own_loop

LIMIT = "100ms"
ROUND_S = 0.3


def settings(component_id: str) -> Settings:
    return Settings(component_id, f"test: {component_id}", SelfMetrics(), logging.getLogger("test"))


def exporter(memory: dict[str, object]) -> StorageExporter:
    raw = {"backends": {"main": {"memory": memory}}}
    storage = JAEGER_STORAGE.create(settings("jaeger_storage"), JAEGER_STORAGE.options(raw, "test: jaeger_storage"))
    storage.start(Host({}))
    created = EXPORTER.create(settings("jaeger_storage_exporter"), EXPORTER.options({"trace_storage": "main"}, "test"))
    assert isinstance(created, StorageExporter)
    created.start(Host({"jaeger_storage": storage}))
    return created


def after_a_slow_round(ask: StorageExporter) -> tuple[Refused | None, Refused | None]:
    """What ``refusal()`` says at the start of a round, then once the round has run ``ROUND_S`` seconds."""

    async def round_() -> tuple[Refused | None, Refused | None]:
        first = ask.refusal()
        time.sleep(ROUND_S)
        return first, ask.refusal()

    return run_on_own_loop(round_())


def test_a_receiver_further_behind_than_max_receive_lag_is_refused_with_429():
    subject = exporter({"max_receive_lag": LIMIT})
    try:
        first, late = after_a_slow_round(subject)
    finally:
        subject.shutdown()
    assert first is None
    assert late is not None
    assert late.overloaded  # HTTP 429, gRPC RESOURCE_EXHAUSTED
    assert late.retry_after == 1.0  # the sending queue's retry_after, as its other refusals
    assert "cannot keep up" in str(late) and "max_receive_lag" in str(late)


def test_a_worker_pool_further_behind_than_max_receive_lag_is_refused_as_a_loop_is():
    """The gRPC receivers and the legacy HTTP ones run requests on pool workers, not on a loop."""
    subject = exporter({"max_receive_lag": LIMIT})

    def round_() -> tuple[Refused | None, Refused | None]:
        first = subject.refusal()
        time.sleep(ROUND_S)  # the only worker is busy: the probe waits
        return first, subject.refusal()

    try:
        with LaggingPool(1, "test-receiver") as pool:
            first, late = pool.submit(round_).result(timeout=10)
    finally:
        subject.shutdown()
    assert first is None
    assert late is not None and late.overloaded
    assert "max_receive_lag" in str(late)


def test_max_receive_lag_0_never_refuses_for_lag():
    subject = exporter({"max_receive_lag": 0})
    try:
        assert after_a_slow_round(subject) == (None, None)
    finally:
        subject.shutdown()


def test_a_batch_decoded_after_the_check_is_taken_however_late_the_round():
    """Refusing after decoding would waste the decoding: only ``refusal()`` looks at the lag, not ``consume``."""
    subject = exporter({"max_receive_lag": LIMIT})

    async def round_() -> None:
        assert subject.refusal() is None
        time.sleep(ROUND_S)
        subject.consume(spans(3))

    try:
        run_on_own_loop(round_())
    finally:
        subject.shutdown()
