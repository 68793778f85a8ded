"""A persistent queue forgets a batch only once the SQLite storage's commit of it is on disk.

So does a durable source (a Redis stream read by an ingester) that waits for ``on_stored`` before it acknowledges
an entry, whatever the queue.

SQLite runs with ``synchronous=NORMAL``: a commit returns before its pages in
the ``-wal`` file are synced, so a power cut after the queue forgot a batch
could lose it.  A power cut cannot be staged here; what these tests prove is
the order instead, with the real persistent queue and the real SQLite
storage: every acknowledgement in the queue's log comes after a sync of the
WAL file that started once the batch's spans were committed (readable by
another connection).  Syncs are seen by recording ``os.fdatasync`` and
``os.fsync`` calls (the path behind each descriptor, from /proc), and, to
stage a disk that fails to sync, by making the WAL's sync raise EIO: chattr
cannot make a sync fail (an immutable file's pages already written still
sync), and the point is the exporter's answer to the failure.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from backend.core.component import Refused, Settings
from backend.core.selfmetrics import SelfMetrics
from backend.exporters.storage.exporter import FACTORY as EXPORTER
from backend.exporters.storage.exporter import StorageExporter
from backend.extensions.file_storage.segments import Record, SegmentLog
from backend.extensions.storage.extension import FACTORY as JAEGER_STORAGE
from backend.spans.model import SpanBatch
from backend.streams.span_stream import decode
from tests.backend.test_sending_queue import FAST, Host, file_storage, spans
from tests.support import wait_for

SPANS_PER_BATCH = 3


@dataclass
class Disk:
    """What went to disk, in order: WAL syncs (with the traces committed when each began) and queue acks.

    ``failing`` makes the WAL's syncs raise EIO, as a disk that cannot write.
    """

    database: Path
    events: list[tuple[str, set[bytes]]] = field(default_factory=list)
    failed_syncs: int = 0
    failing: threading.Event = field(default_factory=threading.Event)

    def committed(self) -> set[bytes]:
        with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as connection:
            return {row[0] for row in connection.execute("SELECT DISTINCT trace_id FROM spans")}

    def wal_syncs(self) -> list[set[bytes]]:
        return [traces for kind, traces in self.events if kind == "wal sync"]

    def acks(self) -> list[set[bytes]]:
        return [traces for kind, traces in self.events if kind == "ack"]

    def acked(self) -> set[bytes]:
        return set().union(*self.acks())

    def all_acked(self, traces: set[bytes]) -> bool:
        return traces <= self.acked()

    def recording(self, real: Callable[[int], None]) -> Callable[[int], None]:
        wal = f"{self.database}-wal"

        def sync(fd: int) -> None:
            if os.readlink(f"/proc/self/fd/{fd}") != wal:
                real(fd)
                return
            if self.failing.is_set():
                self.failed_syncs += 1
                raise OSError(errno.EIO, "injected: the disk failed to write")
            covered = self.committed()  # committed before the sync starts: the sync covers their WAL pages
            real(fd)
            self.events.append(("wal sync", covered))

        return sync


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Disk:
    recorder = Disk(tmp_path / "traces.db")
    monkeypatch.setattr(os, "fdatasync", recorder.recording(os.fdatasync))
    monkeypatch.setattr(os, "fsync", recorder.recording(os.fsync))
    real_ack = SegmentLog.ack

    def ack(log: SegmentLog, records: list[Record]) -> None:
        traces = {span.trace_id for record in records for span in decode(log.read(record)).spans}
        recorder.events.append(("ack", traces))
        real_ack(log, records)

    monkeypatch.setattr(SegmentLog, "ack", ack)
    return recorder


def settings(component_id: str, metrics: SelfMetrics) -> Settings:
    return Settings(component_id, f"test: {component_id}", metrics, logging.getLogger(f"test.{component_id}"))


class Pipeline:
    """The storage exporter with its sending queue on ``file_storage`` (or in memory), writing to SQLite."""

    def __init__(
        self, tmp_path: Path, fsync: str = "always", persistent: bool = True, enabled: bool = True, **batch: object
    ) -> None:
        self.metrics = SelfMetrics()
        self.closed = False
        self.exporter_id = "jaeger_storage_exporter"
        raw = {"backends": {"main": {"sql": {"url": f"sqlite:///{tmp_path / 'traces.db'}"}}}}
        self.storage = JAEGER_STORAGE.create(
            settings("jaeger_storage", self.metrics), JAEGER_STORAGE.options(raw, "test: jaeger_storage")
        )
        self.storage.start(Host({}))
        self.queue_storage = file_storage(tmp_path / "queue", fsync=fsync)
        queue = {"enabled": enabled, "storage": "file_storage" if persistent else "", "batch": batch}
        options = {"trace_storage": "main", "sending_queue": queue, "retry_on_failure": FAST}
        created = EXPORTER.create(settings("jaeger_storage_exporter", self.metrics), EXPORTER.options(options, "test"))
        assert isinstance(created, StorageExporter)
        self.exporter = created
        self.exporter.start(Host({"jaeger_storage": self.storage, "file_storage": self.queue_storage}))

    def send(self, count: int) -> list[SpanBatch]:
        batches = [spans(SPANS_PER_BATCH) for _ in range(count)]
        for batch in batches:
            self.exporter.consume(batch)
        return batches

    def storage_up(self) -> float | None:
        return self.metrics.registry.get_sample_value("jaeger_storage_up", {"storage": "main"})

    def queued(self) -> float | None:
        return self.metrics.registry.get_sample_value("otelcol_exporter_queue_size", {"exporter": self.exporter_id})

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.exporter.shutdown()
        self.queue_storage.shutdown()
        self.storage.shutdown()


@pytest.fixture
def pipelines(tmp_path: Path) -> Iterator[Callable[..., Pipeline]]:
    started: list[Pipeline] = []

    def start(**options: Any) -> Pipeline:
        started.append(Pipeline(tmp_path, **options))
        return started[-1]

    yield start
    for pipeline in started:
        pipeline.close()


def trace_ids(batches: list[SpanBatch]) -> set[bytes]:
    return {span.trace_id for batch in batches for span in batch.spans}


def test_every_ack_comes_after_a_wal_sync_that_began_once_its_batches_were_committed(disk, pipelines):
    pipeline = pipelines(flush_timeout=0)
    for _ in range(3):  # rounds of deliveries, each acknowledged before the next is sent
        sent = trace_ids(pipeline.send(5))
        wait_for(partial(disk.all_acked, sent), timeout=30, what="the round acked")

    assert disk.acks()
    covered: set[bytes] = set()
    for kind, traces in disk.events:
        if kind == "wal sync":
            covered |= traces
        else:
            assert traces <= covered, "a batch was acked before a WAL sync covering its commit"


def test_batches_delivered_together_are_covered_by_one_wal_sync(disk, pipelines):
    # one delivery, once all ten are queued
    pipeline = pipelines(min_size=10 * SPANS_PER_BATCH, flush_timeout="30s", idle_timeout="30s")
    sent = pipeline.send(10)

    wait_for(lambda: disk.acked() == trace_ids(sent), timeout=30, what="the ten batches acked")
    assert len(disk.wal_syncs()) == 1


def send_while_syncs_fail(disk, pipeline, failures: int, what: str):
    """One batch sent while the WAL's syncs fail, once ``failures`` of them have."""
    disk.failing.set()
    sent = pipeline.send(1)
    wait_for(lambda: disk.failed_syncs >= failures, timeout=30, what=what)
    return sent


def test_while_the_wal_cannot_be_synced_nothing_is_acked_and_the_storage_counts_as_down(disk, pipelines):
    pipeline = pipelines(flush_timeout=0)
    sent = send_while_syncs_fail(disk, pipeline, 2, "the failed sync retried")

    assert disk.committed() >= trace_ids(sent)  # delivered ...
    assert disk.acks() == []  # ... yet still queued
    assert pipeline.storage_up() == 0


def test_once_the_wal_syncs_again_the_waiting_batches_are_acked_and_the_storage_is_up(disk, pipelines):
    pipeline = pipelines(flush_timeout=0)
    sent = send_while_syncs_fail(disk, pipeline, 1, "a failed sync")

    disk.failing.clear()

    wait_for(lambda: disk.acked() == trace_ids(sent), timeout=30, what="the batch acked")
    assert trace_ids(sent) <= disk.wal_syncs()[-1]
    assert pipeline.storage_up() == 1


def test_a_batch_whose_sync_failed_until_shutdown_is_delivered_again_after_the_next_start(disk, pipelines):
    first = pipelines(flush_timeout=0)
    sent = send_while_syncs_fail(disk, first, 1, "a failed sync")
    first.close()
    assert disk.acks() == []
    disk.failing.clear()

    pipelines(flush_timeout=0)

    wait_for(lambda: disk.acked() == trace_ids(sent), timeout=30, what="the replayed batch acked")
    assert trace_ids(sent) <= disk.wal_syncs()[-1]


@pytest.mark.parametrize("queue", ["in memory", "fsync: never"])
def test_a_queue_that_would_not_survive_a_power_cut_itself_costs_the_storage_no_sync(disk, pipelines, queue):
    pipeline = pipelines(flush_timeout=0, persistent=queue != "in memory", fsync="never")
    sent = pipeline.send(5)

    wait_for(lambda: pipeline.queued() == 0, timeout=30, what="the queue drained")
    assert disk.committed() >= trace_ids(sent)
    assert disk.wal_syncs() == []


def source_acks(disk: Disk, batch: SpanBatch) -> SpanBatch:
    """``batch`` as a durable source hands it on: it acknowledges its own copy (recorded as an ack) on stored."""
    batch.on_stored.append(lambda: disk.events.append(("ack", trace_ids([batch]))))
    return batch


@pytest.mark.parametrize("queue", ["in memory", "no sending queue"])
def test_a_durable_source_hears_stored_only_after_a_wal_sync_that_covers_the_batch(disk, pipelines, queue):
    pipeline = pipelines(flush_timeout=0, persistent=False, enabled=queue == "in memory")
    batch = source_acks(disk, spans(SPANS_PER_BATCH))
    pipeline.exporter.consume(batch)

    wait_for(lambda: disk.acked() == trace_ids([batch]), timeout=30, what="the source told the batch is stored")
    syncs_before_ack = disk.wal_syncs()[: [kind for kind, _ in disk.events].index("ack")]
    assert any(trace_ids([batch]) <= traces for traces in syncs_before_ack)


def test_a_durable_source_whose_batch_cannot_be_synced_is_refused_and_keeps_its_copy(disk, pipelines):
    pipeline = pipelines(persistent=False, enabled=False)
    disk.failing.set()
    batch = source_acks(disk, spans(SPANS_PER_BATCH))

    with pytest.raises(Refused, match="delivered but not synced"):
        pipeline.exporter.consume(batch)
    assert disk.acks() == []
