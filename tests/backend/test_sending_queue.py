"""The exporter helper driven directly: retries that never give up, back-pressure, the persistent queue.

The peer is a small exporter whose ``send`` fails while the test says so (the storage plug-ins' own
failures are driven for real in tests/faults).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from backend.core.binding import ConfigError, Duration
from backend.core.component import Refused, Settings, Status
from backend.core.selfmetrics import SelfMetrics
from backend.exporters.helper import HelperOptions, Permanent, QueuedExporter
from backend.exporters.helper.retry import BackOff, RetryOptions
from backend.extensions.file_storage.extension import FACTORY as FILE_STORAGE
from backend.spans.model import SpanBatch
from tests.builders import SpanSpec, batch_of
from tests.support import wait_for

FAST = {"initial_interval": "5ms", "max_interval": "20ms"}


class Peer(QueuedExporter):
    """Fails while ``down`` is set (``permanent``: with an error no retry fixes); records what it took."""

    def __init__(self, metrics: SelfMetrics, options: HelperOptions) -> None:
        super().__init__(Settings("peer", "test: exporters.peer", metrics, logging.getLogger("test.peer")), options)
        self.down = threading.Event()
        self.permanent = False
        self.attempts = 0
        self.delivered: list[SpanBatch] = []

    def send(self, batch: SpanBatch) -> None:
        self.attempts += 1
        if self.permanent:
            raise Permanent("the peer rejects this data")
        if self.down.is_set():
            raise ConnectionError("the peer is down")
        self.delivered.append(batch)

    @property
    def spans(self) -> int:
        return sum(len(batch) for batch in self.delivered)


class Host:
    status = Status.READY

    def __init__(self, extensions: dict) -> None:
        self._extensions = extensions

    def extension(self, component_id: str):
        return self._extensions[component_id]

    def extensions(self) -> dict:
        return dict(self._extensions)

    def report(self, component: str, problem: str | None) -> None:
        pass

    def problems(self) -> dict[str, str]:
        return {}


def options(**queue: object) -> HelperOptions:
    from backend.core.binding import bind

    return bind(HelperOptions, {"sending_queue": queue, "retry_on_failure": FAST}, "test")


def file_storage(directory: Path, **more: object):
    raw = {"directory": str(directory), **more}
    extension = FILE_STORAGE.create(
        Settings("file_storage", "test: extensions.file_storage", SelfMetrics(), logging.getLogger("test")),
        FILE_STORAGE.options(raw, "test: extensions.file_storage"),
    )
    extension.start(Host({}))
    return extension


def spans(n: int) -> SpanBatch:
    root = SpanSpec("svc", "op")
    return batch_of([root, *(root.child("svc", f"c{i}") for i in range(n - 1))])


def sample(metrics: SelfMetrics, name: str) -> float:
    return metrics.registry.get_sample_value(name, {"exporter": "peer"}) or 0.0


@pytest.fixture
def metrics() -> SelfMetrics:
    return SelfMetrics()


def start(peer: Peer, extensions: dict | None = None) -> Peer:
    peer.start(Host(extensions or {}))
    return peer


def test_a_failing_peer_is_retried_until_it_recovers_and_nothing_is_given_up(metrics):
    peer = start(Peer(metrics, options()))
    peer.down.set()
    peer.consume(spans(3))
    wait_for(lambda: peer.attempts >= 10, timeout=10, what="ten failed attempts")  # the old limit was 5

    peer.down.clear()

    wait_for(lambda: peer.spans == 3, timeout=10, what="the batch delivered")
    assert sample(metrics, "otelcol_exporter_send_failed_spans_total") == 0
    assert sample(metrics, "otelcol_exporter_send_retries_total") >= 10
    peer.shutdown()


def test_while_the_peer_is_down_an_in_memory_queue_refuses_as_unavailable_then_takes_again(metrics):
    peer = start(Peer(metrics, options()))
    peer.down.set()
    peer.consume(spans(2))
    refused = wait_for(peer.refusal, timeout=10, what="the refusal")

    assert refused is not None and not refused.overloaded  # 503 / UNAVAILABLE
    with pytest.raises(Refused):
        peer.consume(spans(1))
    peer.down.clear()
    wait_for(lambda: peer.refusal() is None, timeout=10, what="the peer taking again")
    peer.consume(spans(1))
    wait_for(lambda: peer.spans == 3, timeout=10, what="both batches delivered")
    assert sample(metrics, "otelcol_exporter_enqueue_failed_spans_total") == 1
    peer.shutdown()


def test_a_full_queue_refuses_as_overloaded(metrics):
    peer = start(Peer(metrics, options(queue_size=5)))
    peer.down.set()
    peer.consume(spans(5))

    with pytest.raises(Refused) as caught:
        peer.consume(spans(1))

    assert caught.value.overloaded  # 429 / RESOURCE_EXHAUSTED
    peer.down.clear()
    peer.shutdown()
    assert peer.spans == 5


def test_a_permanent_error_gives_the_batch_up_at_once_and_counts_it(metrics):
    peer = start(Peer(metrics, options()))
    peer.permanent = True
    peer.consume(spans(4))
    wait_for(lambda: sample(metrics, "otelcol_exporter_send_failed_spans_total") == 4, timeout=10, what="the count")
    assert peer.attempts == 1
    peer.shutdown()


def test_a_persistent_queue_keeps_taking_during_an_outage_and_reports_its_backlog(metrics, tmp_path):
    storage = file_storage(tmp_path / "queue")
    peer = start(Peer(metrics, options(storage="fs")), {"fs": storage})
    peer.down.set()
    for _ in range(5):
        assert peer.refusal() is None
        peer.consume(spans(2))

    assert sample(metrics, "otelcol_exporter_queue_size") == 10
    assert sample(metrics, "otelcol_exporter_queue_disk_bytes") > 0
    assert sample(metrics, "otelcol_exporter_queue_disk_syncs") == 5  # one at a time: nothing to share a sync with
    assert sample(metrics, "otelcol_exporter_queue_oldest_age_seconds") > 0
    peer.down.clear()
    wait_for(lambda: peer.spans == 10, timeout=10, what="the backlog delivered")
    peer.shutdown()
    storage.shutdown()


def test_what_a_persistent_queue_held_at_shutdown_with_its_peer_down_is_delivered_after_the_next_start(
    metrics, tmp_path
):
    """(kill -9 leaves the same files: tests/faults/test_kill_backend.py)"""
    storage = file_storage(tmp_path / "queue")
    dead = start(Peer(metrics, options(storage="fs")), {"fs": storage})
    dead.down.set()
    sent = [spans(3), spans(4)]
    for batch in sent:
        dead.consume(batch)
    dead.shutdown()  # at once: nothing delivered, nothing acknowledged
    storage.shutdown()

    storage = file_storage(tmp_path / "queue")
    alive = start(Peer(SelfMetrics(), options(storage="fs")), {"fs": storage})

    wait_for(lambda: alive.spans == 7, timeout=10, what="the replayed batches delivered")
    delivered = sorted(span.span_id for batch in alive.delivered for span in batch.spans)
    assert delivered == sorted(span.span_id for batch in sent for span in batch.spans)
    alive.shutdown()
    storage.shutdown()
    assert list((tmp_path / "queue" / "peer").glob("*.wal")) == []  # delivered: deleted


def test_a_record_cut_short_by_a_crash_is_not_replayed(metrics, tmp_path):
    storage = file_storage(tmp_path / "queue")
    dead = start(Peer(metrics, options(storage="fs")), {"fs": storage})
    dead.down.set()
    dead.consume(spans(3))
    dead.shutdown()
    storage.shutdown()
    [segment] = (tmp_path / "queue" / "peer").glob("*.wal")
    with segment.open("ab") as file:
        file.write(segment.read_bytes()[:40])  # the start of a second record, as a kill -9 mid-write leaves it

    storage = file_storage(tmp_path / "queue")
    alive = start(Peer(SelfMetrics(), options(storage="fs")), {"fs": storage})

    wait_for(lambda: alive.spans == 3, timeout=10, what="the whole record delivered")
    alive.shutdown()
    assert alive.spans == 3
    storage.shutdown()


def test_past_the_disk_quota_the_exporter_refuses_and_drops_nothing(metrics, tmp_path):
    storage = file_storage(tmp_path / "queue", quota_mib=1)
    peer = start(Peer(metrics, options(storage="fs")), {"fs": storage})
    peer.down.set()
    accepted = 0
    with pytest.raises(Refused) as caught:
        for _ in range(10_000):
            peer.consume(spans(50))
            accepted += 50
    assert caught.value.overloaded
    assert 0 < accepted < 500_000

    peer.down.clear()
    wait_for(lambda: peer.spans == accepted, timeout=30, what="everything accepted delivered")
    peer.shutdown()
    storage.shutdown()


def test_delivered_segments_are_deleted(metrics, tmp_path):
    storage = file_storage(tmp_path / "queue", segment_mib=1)
    peer = start(Peer(metrics, options(storage="fs")), {"fs": storage})
    for _ in range(300):
        peer.consume(spans(50))  # ~10 KB each: several segments
    wait_for(lambda: peer.spans == 15_000, timeout=30, what="all delivered")
    peer.shutdown()
    storage.shutdown()
    assert list((tmp_path / "queue" / "peer").glob("*.wal")) == []


def test_a_second_user_of_the_same_queue_folder_is_refused_at_start(metrics, tmp_path):
    storage = file_storage(tmp_path / "queue")
    start(Peer(metrics, options(storage="fs")), {"fs": storage})
    with pytest.raises(ConfigError, match="in use"):
        start(Peer(SelfMetrics(), options(storage="fs")), {"fs": storage})
    storage.shutdown()


def test_the_back_off_grows_by_the_multiplier_within_the_randomization_up_to_the_cap():
    backoff = BackOff(RetryOptions(initial_interval=Duration(100_000_000), max_interval=Duration(1_000_000_000)))
    waits = [backoff.next_wait() for _ in range(12)]
    interval = 0.1
    for wait in waits:
        assert wait is not None and interval * 0.5 <= wait <= min(interval * 1.5, 1.0)
        interval = min(interval * 1.5, 1.0)
    assert backoff.next_wait(hint=7.0) == 1.0  # a peer's Retry-After, capped too


def test_max_elapsed_time_ends_the_retries():
    options = RetryOptions(
        initial_interval=Duration(100_000_000), max_elapsed_time=Duration(150_000_000), randomization_factor=0
    )
    backoff = BackOff(options)
    assert backoff.next_wait() == pytest.approx(0.1)
    assert backoff.next_wait() is None  # 0.1 + 0.15 would pass 150 ms
