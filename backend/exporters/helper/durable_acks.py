"""``DurableAcks``: a persistent queue forgets delivered batches only after the peer synced them.

The queue promises that a batch answered with success survives a power cut
(``file_storage`` with ``fsync: always`` or ``interval``).  A storage's
``write`` may return before its commit is on disk (SQLite with
``synchronous=NORMAL``), and deleting the queue's copy then would leave the
batch nowhere after a power cut.  So consumers hand delivered entries here
instead of to ``done``; one thread syncs the peer once for everything
handed over since the last sync, then acknowledges it all.  Consumers go on
delivering meanwhile: a sync costs the write path nothing but the disk's
time, and at a high rate one sync covers many deliveries (group commit,
as the queue's own appends share syncs).

A failed sync acknowledges nothing: the entries stay in the queue (on disk,
replayed after a restart) and the sync is retried with ``retry_on_failure``'s
back-off until one succeeds; the peer counts as down meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from backend.exporters.helper.queue import Entry, MemoryQueue
from backend.exporters.helper.retry import RetryOptions
from backend.spans.model import SpanBatch


class DurableAcks:
    def __init__(
        self,
        queue: MemoryQueue,
        sync: Callable[[], None],
        retry: RetryOptions,
        health: Callable[[Exception | None], None],
        logger: logging.Logger,
        name: str,
    ) -> None:
        """``sync`` makes every delivery that returned before it durable; ``health`` hears its failures (the
        exception) and the first success after them (None)."""
        self._queue = queue
        self._sync = sync
        self._retry = retry
        self._health = health
        self._logger = logger
        self._cond = threading.Condition()
        self._delivered: list[tuple[list[Entry], SpanBatch]] = []
        self._closed = False
        self._stop_waiting = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-acks", daemon=True)
        self._thread.start()

    def delivered(self, entries: list[Entry], batch: SpanBatch) -> None:
        """``batch`` (made of ``entries``) was written: acknowledge it once a sync covers it."""
        with self._cond:
            self._delivered.append((entries, batch))
            self._cond.notify()

    def close(self) -> None:
        """After the last ``delivered``: one more sync for what is waiting, then stop.

        If that sync fails the entries stay on disk, for the next start to deliver again.
        """
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._stop_waiting.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._delivered and not self._closed:
                    self._cond.wait()
                if not self._delivered:
                    return
                round_, self._delivered = self._delivered, []
            if not self._synced(round_):
                return
            for entries, batch in round_:
                batch.stored()
                try:
                    self._queue.done(entries)
                except OSError:  # not acknowledged: delivered again after the next start, as after a kill
                    self._logger.exception("cannot acknowledge %d delivered span(s) in the queue", len(batch))

    def _synced(self, round_: list[tuple[list[Entry], SpanBatch]]) -> bool:
        """Sync until it works (True), or until closed while failing (False: nothing acknowledged)."""
        backoff = self._retry.backoff()
        failed = False
        while True:
            try:
                self._sync()
            except Exception as exc:
                spans = sum(len(batch) for _, batch in round_)
                self._health(exc)
                failed = True
                wait = backoff.next_wait() or self._retry.max_interval / 1e9
                self._logger.warning(
                    "syncing %d delivered span(s) failed; they stay queued, retrying in %.2fs: %s", spans, wait, exc
                )
                if self._stop_waiting.wait(wait):
                    with self._cond:
                        unsynced, self._delivered = round_ + self._delivered, []
                    for entries, _ in unsynced:
                        self._queue.release(entries)
                    return False
                continue
            if failed:
                self._health(None)
            return True
