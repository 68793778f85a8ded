"""Group commit in the persistent queue's write-ahead log: concurrent appends share one data sync, and each
append still returns only once its own record is on disk and is replayed after a reopen; through OTLP/HTTP, the
sync is waited for off the receiver's event loop, so requests keep being decoded and share it.

The sync function is injected so that the test can hold the first sync until every other appender has written
its record (a wait-for condition on what the log reports, not a sleep); the held sync then covers one record,
and one more sync covers all the others.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from google.rpc.status_pb2 import Status

from backend.core.component import Refused, Settings
from backend.core.disk import sync_data
from backend.core.selfmetrics import SelfMetrics
from backend.exporters.helper.persistent_queue import PersistentQueue
from backend.extensions.file_storage.segments import Quota, SegmentLog
from backend.receivers.otlp.receiver import FACTORY
from backend.spans.model import SpanBatch
from tests.backend.clients import post_otlp
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

APPENDERS = 8


def failing_once(error: OSError):
    """A sync that raises ``error`` the first time and syncs for real after."""
    failures = [error]

    def sync(fd: int) -> None:
        if failures:
            raise failures.pop()
        sync_data(fd)

    return sync


def open_log(folder: Path, sync=sync_data, segment_bytes: int = 1 << 20) -> SegmentLog:
    return SegmentLog(folder, "always", 0.1, segment_bytes, Quota(64 << 20), sync=sync)


class HeldSync:
    """The real fdatasync, the first call held until ``ready()`` is true; counts the records each call covered."""

    def __init__(self) -> None:
        self.ready = lambda: True
        self.calls = 0
        self._first = True

    def __call__(self, fd: int) -> None:
        self.calls += 1
        if self._first:
            self._first = False
            wait_for(self.ready, timeout=30, interval=0.005, what="every appender has written its record")
        sync_data(fd)


def append_concurrently(log: SegmentLog, payloads: list[bytes]) -> list[BaseException]:
    errors: list[BaseException] = []

    def append(payload: bytes) -> None:
        try:
            log.append(payload, 1, 0.0)
        except BaseException as exc:  # surfaced by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_concurrent_appends_share_syncs_and_every_record_is_replayed_after_reopen(tmp_path):
    sync = HeldSync()
    log = open_log(tmp_path, sync)
    log.replay()
    sync.ready = lambda: log.written() == APPENDERS
    payloads = [f"record {n}".encode() * 50 for n in range(APPENDERS)]

    assert append_concurrently(log, payloads) == []

    assert log.syncs == sync.calls
    assert log.syncs < APPENDERS, f"{log.syncs} syncs for {APPENDERS} concurrent appends"
    log.close()
    reopened = open_log(tmp_path)
    replayed = reopened.replay()
    assert sorted(reopened.read(record) for record in replayed) == sorted(payloads)
    reopened.close()


def test_an_append_returns_only_after_a_sync_that_covers_its_record(tmp_path):
    """Held in the first sync, no appender returns: the others' records were written after it began."""
    sync = HeldSync()
    log = open_log(tmp_path, sync)
    log.replay()
    returned: list[int] = []
    release = threading.Event()

    def ready() -> bool:
        return log.written() == APPENDERS and release.is_set()

    sync.ready = ready

    def append(n: int) -> None:
        log.append(b"x" * 100, 1, 0.0)
        returned.append(n)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(APPENDERS)]
    for thread in threads:
        thread.start()
    wait_for(lambda: log.written() == APPENDERS, what="every record written while the first sync is held")
    assert returned == []
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(returned) == list(range(APPENDERS))
    assert log.syncs == 2
    log.close()


def test_a_failed_sync_fails_its_append_and_the_next_sync_covers_the_record_again(tmp_path):
    log = open_log(tmp_path, failing_once(OSError(5, "Input/output error")))
    log.replay()
    with pytest.raises(OSError):
        log.append(b"first", 1, 0.0)
    assert log.syncs == 0
    log.append(b"second", 1, 0.0)  # one sync for both: the first's bytes are in the file, never acknowledged
    assert log.syncs == 1
    log.close()


def test_rolling_to_a_new_segment_syncs_the_old_one_before_closing_it(tmp_path):
    """Segments of one record each: every append rolls over, and every record is still replayed."""
    log = open_log(tmp_path, segment_bytes=1)
    log.replay()
    payloads = [f"segment {n}".encode() for n in range(APPENDERS)]
    assert append_concurrently(log, payloads) == []
    log.close()
    assert len(list(tmp_path.glob("*.wal"))) == APPENDERS
    reopened = open_log(tmp_path)
    assert sorted(reopened.read(record) for record in reopened.replay()) == sorted(payloads)
    reopened.close()


class QueueOnLog:
    """A pipeline ending in a persistent sending queue on ``log``, as the storage exporter's."""

    def __init__(self, log: SegmentLog) -> None:
        self.queue = PersistentQueue(1_000_000, log)

    def consume(self, batch: SpanBatch) -> None:
        self.queue.put(batch)

    def refusal(self) -> Refused | None:
        return None


def otlp_http(pipeline: QueueOnLog):
    """An OTLP receiver with its default HTTP options (on a free port) in front of ``pipeline``, and its URL."""
    options = FACTORY.options({"protocols": {"http": {"endpoint": "127.0.0.1:0"}}}, "test: receivers.otlp")
    settings = Settings("otlp", "test: receivers.otlp", SelfMetrics(), logging.getLogger("test"))
    receiver = FACTORY.create(settings, options, pipeline)
    receiver.start(None)  # the OTLP receiver asks the host for nothing
    return receiver, f"http://{receiver.endpoints()['otlp/http']}/v1/traces"


def test_otlp_http_requests_are_decoded_on_while_a_sync_waits_and_share_the_next_one(tmp_path):
    """The receiver's default options: each request is decoded on the event loop, and its disk sync is waited for
    off the loop, so while the first sync is held every other request still gets its batch written; they are
    answered 200 only after a sync that covers them."""
    sync = HeldSync()
    log = open_log(tmp_path, sync)
    pipeline = QueueOnLog(log)
    sync.ready = lambda: log.written() == APPENDERS
    receiver, url = otlp_http(pipeline)
    try:
        bodies = [export_request([SpanSpec("frontend", f"GET /{n}")]).SerializeToString() for n in range(APPENDERS)]
        statuses: list[int] = []
        senders = [threading.Thread(target=lambda b=b: statuses.append(post_otlp(url, b).status_code)) for b in bodies]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=60)
        assert statuses == [200] * APPENDERS
        assert log.syncs == sync.calls <= 2
    finally:
        receiver.shutdown()
    log.close()
    reopened = open_log(tmp_path)
    assert len(reopened.replay()) == APPENDERS
    reopened.close()


def test_a_request_whose_sync_failed_is_answered_503_and_its_batch_is_synced_with_the_next(tmp_path):
    log = open_log(tmp_path, failing_once(OSError(28, "No space left on device")))
    receiver, url = otlp_http(QueueOnLog(log))
    try:
        body = export_request([SpanSpec("frontend", "GET /dispatch")]).SerializeToString()
        refused = post_otlp(url, body)
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
        assert "No space left on device" in Status.FromString(refused.content).message
        assert post_otlp(url, body).status_code == 200
    finally:
        receiver.shutdown()
    log.close()
    reopened = open_log(tmp_path)
    assert len(reopened.replay()) == 2  # the refused one too: written, then synced; its resend is idempotent
    reopened.close()
