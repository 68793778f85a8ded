"""The batch processor and the storage exporter, driven directly: queue bounds, grouping, drain, retries."""

from __future__ import annotations

import logging
import threading

import pytest

from backend.core.binding import ConfigError
from backend.core.component import Refused, Settings
from backend.core.selfmetrics import SelfMetrics
from backend.processors.batch.processor import FACTORY as BATCH
from backend.spans.model import SpanBatch
from tests.builders import SpanSpec, batch_of
from tests.support import wait_for


class Recorder:
    """The next consumer: records batches; can be held shut to simulate a stalled storage."""

    def __init__(self) -> None:
        self.batches: list[SpanBatch] = []
        self.open = threading.Event()
        self.open.set()
        self.busy = threading.Event()

    def refusal(self) -> Refused | None:
        return None

    def consume(self, batch: SpanBatch) -> None:
        self.busy.set()
        self.open.wait(30)
        self.batches.append(batch)

    @property
    def spans(self) -> int:
        return sum(len(b) for b in self.batches)


def spans(n: int) -> SpanBatch:
    root = SpanSpec("svc", "op")
    return batch_of([root, *(root.child("svc", f"c{i}") for i in range(n - 1))])


def processor(recorder: Recorder, **options):
    settings = Settings("batch", "test: processors.batch", SelfMetrics(), logging.getLogger("test"))
    created = BATCH.create(settings, BATCH.options(options, "test: processors.batch"), recorder)
    created.start(None)
    return created


def test_a_full_queue_refuses_immediately_and_takes_batches_again_once_drained():
    recorder = Recorder()
    recorder.open.clear()
    batch = processor(recorder, queue_size=10, send_batch_size=5, timeout="1ms", workers=1)
    batch.consume(spans(5))
    assert recorder.busy.wait(5)  # the worker holds one batch in the stalled consumer
    batch.consume(spans(5))
    batch.consume(spans(5))
    with pytest.raises(Refused) as caught:
        batch.consume(spans(1))
    assert caught.value.overloaded
    recorder.open.set()
    batch.shutdown()
    assert recorder.spans == 15


def fed_then_shut_down(recorder: Recorder, batches: int, size: int, **options):
    """A processor given ``batches`` batches of ``size`` spans, then shut down (which delivers what it queued)."""
    batch = processor(recorder, **options)
    for _ in range(batches):
        batch.consume(spans(size))
    batch.shutdown()
    return batch


def test_small_batches_are_grouped_up_to_send_batch_size():
    recorder = Recorder()
    fed_then_shut_down(recorder, 3, 2, send_batch_size=6, timeout="10s", workers=1)
    assert [len(b) for b in recorder.batches] == [6]


def test_by_default_a_lone_batch_is_handed_on_at_once():
    recorder = Recorder()
    batch = processor(recorder, send_batch_size=1000)
    batch.consume(spans(3))
    wait_for(lambda: recorder.spans == 3, timeout=5, what="the batch handed on")
    batch.shutdown()


def test_by_default_what_queues_during_a_write_goes_out_together_in_the_next():
    recorder = Recorder()
    recorder.open.clear()
    batch = processor(recorder, send_batch_size=1000)
    batch.consume(spans(2))
    assert recorder.busy.wait(5)  # the worker is writing the first batch
    batch.consume(spans(3))
    batch.consume(spans(4))
    recorder.open.set()
    wait_for(lambda: recorder.spans == 9, timeout=5, what="both batches handed on")
    assert [len(b) for b in recorder.batches] == [2, 7]
    batch.shutdown()


def test_refusal_forecasts_whether_a_batch_like_the_last_one_would_fit():
    recorder = Recorder()
    recorder.open.clear()
    batch = processor(recorder, queue_size=10, send_batch_size=4)
    assert batch.refusal() is None
    batch.consume(spans(4))
    assert recorder.busy.wait(5)  # the worker holds the first batch in the stalled consumer
    batch.consume(spans(4))
    assert batch.refusal() is None  # 4 queued: another 4 fit
    batch.consume(spans(4))

    refused = batch.refusal()  # 8 queued: another 4 would not fit

    assert refused is not None and refused.overloaded
    batch.consume(spans(2))  # a forecast only: a smaller batch still gets in
    recorder.open.set()
    wait_for(lambda: batch.refusal() is None, timeout=5, what="the queue drained")
    batch.shutdown()


def test_refusal_while_shutting_down_is_not_overload():
    batch = processor(Recorder())
    batch.shutdown()

    refused = batch.refusal()

    assert refused is not None and not refused.overloaded


def test_the_timeout_sends_a_partial_batch():
    recorder = Recorder()
    batch = processor(recorder, send_batch_size=1000, timeout="20ms")
    batch.consume(spans(3))
    wait_for(lambda: recorder.spans == 3, timeout=5, what="the timeout flush")
    batch.shutdown()


def test_shutdown_delivers_everything_queued_and_then_refuses():
    recorder = Recorder()
    batch = fed_then_shut_down(recorder, 10, 3, send_batch_size=7, timeout="1h", workers=3)
    assert recorder.spans == 30
    with pytest.raises(Refused) as caught:
        batch.consume(spans(1))
    assert not caught.value.overloaded


def test_a_request_larger_than_the_whole_queue_still_fits_an_empty_queue():
    recorder = Recorder()
    batch = processor(recorder, queue_size=4, send_batch_size=4, timeout="1ms")
    batch.consume(spans(9))
    batch.shutdown()
    assert recorder.spans == 9


@pytest.mark.parametrize(
    ("option", "value"), [("queue_size", 0), ("send_batch_size", -1), ("timeout", "-1s"), ("workers", 0)]
)
def test_nonsense_options_are_config_errors(option, value):
    with pytest.raises(ConfigError, match=f"processors.batch.{option}"):
        BATCH.options({option: value}, "test: processors.batch")


class Refusing(Recorder):
    """A next step that refuses (a full sending queue, a full stream) until ``open_up`` is called."""

    def __init__(self, overloaded: bool) -> None:
        super().__init__()
        self.refusing = True
        self.overloaded = overloaded

    def consume(self, batch: SpanBatch) -> None:
        if self.refusing:
            raise Refused("downstream full", retry_after=2.0, overloaded=self.overloaded)
        super().consume(batch)


@pytest.mark.parametrize("overloaded", [True, False])
def test_a_batch_the_next_step_refuses_is_kept_and_everything_upstream_refused_with_its_answer(overloaded):
    refusing = Refusing(overloaded)
    batch = processor(refusing, send_batch_size=100)
    batch.consume(spans(3))
    refused = wait_for(batch.refusal, timeout=5, what="the refusal passed upstream")
    assert refused.overloaded is overloaded and refused.retry_after == 2.0
    with pytest.raises(Refused):
        batch.consume(spans(1))

    refusing.refusing = False

    wait_for(lambda: refusing.spans == 3, timeout=5, what="the kept batch delivered")
    assert batch.refusal() is None
    batch.shutdown()
