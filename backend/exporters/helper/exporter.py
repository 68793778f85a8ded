"""``QueuedExporter``: what every exporter gets around its ``send``: a sending queue, retries, back-pressure.

As the Collector's exporterhelper: ``consume`` puts the batch in the sending
queue (in memory, or persistent on a ``file_storage`` extension) and
returns, so the sender's success answer means "queued" (for a persistent
queue: "on disk"); ``num_consumers`` threads take batches off and ``send``
them, retrying with jittered exponential back-off (``retry_on_failure``)
for as long as the peer fails.  Nothing is dropped after a number of
attempts: a batch leaves the queue when it was delivered (and, when a copy
that survives a power cut waits for it, in a persistent queue or a durable
source, synced by the peer: ``durable_acks``), when ``send`` raised
``Permanent``, or when a configured ``max_elapsed_time`` ran out.

Back-pressure instead of loss: ``refusal()`` (asked by receivers before
decoding) and ``consume`` refuse a batch that does not fit in the queue
(429 / RESOURCE_EXHAUSTED) and, for an in-memory queue, every batch while
the peer is known to be down (503 / UNAVAILABLE, Retry-After): held in
memory it would not survive the outage any better than at the sender.  A
persistent queue takes batches during an outage until ``queue_size`` or
the disk quota is reached.
"""

from __future__ import annotations

import threading
from abc import abstractmethod

from backend.core.component import Exporter, Host, Refused, Settings, SizesByLastBatch
from backend.exporters.helper.durable_acks import DurableAcks
from backend.exporters.helper.options import HelperOptions
from backend.exporters.helper.persistent_queue import PersistentQueue
from backend.exporters.helper.queue import Entry, MemoryQueue, QueueFull
from backend.exporters.helper.retry import Permanent, Throttled
from backend.extensions.file_storage.extension import find_file_storage
from backend.spans.model import SpanBatch


class QueuedExporter(SizesByLastBatch, Exporter):
    """Subclasses implement ``send``; their ``start`` calls ``super().start(host)`` last, ``shutdown`` first."""

    #: True for a copy that must never hold up the pipeline (otlp_forward): a batch that does not fit is
    #: dropped and counted instead of refused
    best_effort = False

    def __init__(self, settings: Settings, options: HelperOptions) -> None:
        self._settings = settings
        self._helper = options
        self._queue: MemoryQueue | None = None
        self._acks: DurableAcks | None = None  # with the queue: lets go of what ``sync`` covered, where a copy waits
        self._workers: list[threading.Thread] = []
        self._stopping = False
        self._stop_retrying = threading.Event()
        self._down: Refused | None = None  # why the last attempt failed, until one succeeds
        self._gave_up: Exception | None = None  # the last error a batch was given up on
        metrics, eid = settings.metrics, settings.id
        self._sent = metrics.sent.labels(eid)
        self._failed = metrics.send_failed.labels(eid)
        self._enqueue_failed = metrics.enqueue_failed.labels(eid)
        self._retries = metrics.send_retries.labels(eid)

    @abstractmethod
    def send(self, batch: SpanBatch) -> None:
        """Deliver ``batch`` once; raise on failure (``Permanent`` when retrying cannot help, ``Throttled`` when
        the peer is full or gave a Retry-After)."""

    def sync(self) -> None:
        """Make what ``send`` delivered survive a power cut; a persistent queue forgets it only afterwards.

        Nothing by default: a remote peer answered ``send`` on its own durability promise.
        """

    def peer_up(self, up: bool, error: Exception | None) -> None:
        """Called when the peer turns out to be up again or down; the storage exporter tells the storage's health."""

    # lifecycle

    def start(self, host: Host) -> None:
        queue_options = self._helper.sending_queue
        if not queue_options.enabled:
            return
        if queue_options.storage:
            where = f"{self._settings.where}.sending_queue.storage"
            log = find_file_storage(host, queue_options.storage, where).open_log(self._settings.id, where)
            self._queue = PersistentQueue(queue_options.queue_size, log)
            if self._queue.size():
                self._settings.logger.info("replaying %d queued span(s) from %s", self._queue.size(), log.directory)
        else:
            self._queue = MemoryQueue(queue_options.queue_size)
        self._watch(self._queue)
        retry, logger = self._helper.retry_on_failure, self._settings.logger
        self._acks = DurableAcks(self._queue, self.sync, retry, self._sync_health, logger, self._settings.id)
        for number in range(queue_options.num_consumers):
            worker = threading.Thread(target=self._run, name=f"{self._settings.id}-sender-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def _watch(self, queue: MemoryQueue) -> None:
        metrics, eid = self._settings.metrics, self._settings.id
        metrics.exporter_queue_capacity.labels(eid).set(queue.capacity)
        metrics.exporter_queue_size.labels(eid).set_function(queue.size)
        metrics.exporter_queue_disk_bytes.labels(eid).set_function(queue.bytes_on_disk)
        metrics.exporter_queue_disk_syncs.labels(eid).set_function(queue.disk_syncs)
        metrics.exporter_queue_oldest_age.labels(eid).set_function(queue.oldest_age)

    def shutdown(self) -> None:
        """Deliver what is queued; a persistent queue keeps on disk what the peer does not take now."""
        self._stopping = True
        queue = self._queue
        if queue is None:
            return
        queue.close()
        if queue.persistent:
            self._stop_retrying.set()  # what the peer does not take at the first try waits on disk for the next start
        timer = threading.Timer(self._helper.sending_queue.drain_timeout / 1e9, self._stop_retrying.set)
        timer.daemon = True
        timer.start()
        for worker in self._workers:
            worker.join()
        timer.cancel()
        self._workers.clear()
        if self._acks is not None:
            self._acks.close()

    # the data path

    def refusal(self) -> Refused | None:
        return None if self.best_effort else self._refusal(self._last_count)

    def _refusal(self, count: int) -> Refused | None:
        retry_after = self._helper.sending_queue.retry_after / 1e9
        if self._stopping:
            return Refused("the backend is shutting down", retry_after, overloaded=False)
        queue = self._queue
        if queue is None:
            return self._down
        if not queue.fits(count):
            message = f"{self._settings.id}: sending queue full ({queue.size()} of {queue.capacity} spans)"
            return Refused(message, retry_after)
        if self._down is not None and not queue.persistent and not self.best_effort:
            return self._down
        return None

    def consume(self, batch: SpanBatch) -> None:
        count = self._offered(batch)
        if not count:
            return
        if self._queue is None:  # no sending queue: the caller waits for the retries
            if not self._deliver(batch):
                raise Refused(f"{self._settings.id}: delivery failed: {self._gave_up}", overloaded=False)
            if batch.on_stored:  # a durable source lets its copy go on stored(): only once the peer synced it
                try:
                    self.sync()
                except Exception as exc:
                    raise Refused(f"{self._settings.id}: delivered but not synced: {exc}", overloaded=False) from exc
            batch.stored()
            return
        refused = self._refusal(count)
        if refused is None:
            try:
                self._queue.put(batch)
                return
            except QueueFull as exc:
                refused = Refused(f"{self._settings.id}: {exc}", self._helper.sending_queue.retry_after / 1e9)
            except OSError as exc:
                self._settings.logger.error("cannot write the persistent queue: %s", exc)
                refused = Refused(f"{self._settings.id}: cannot write the queue: {exc}", overloaded=False)
        self._enqueue_failed.inc(count)
        if self.best_effort:
            self._settings.logger.warning("dropped %d span(s), best effort: %s", count, refused)
            return
        raise refused

    def _run(self) -> None:
        queue = self._queue
        acks = self._acks
        assert queue is not None and acks is not None
        sizes = self._helper.sending_queue.batch
        while True:
            entries = queue.take(sizes.max_size, sizes.min_size, sizes.flush_timeout / 1e9, sizes.idle_timeout / 1e9)
            if not entries:
                return
            try:
                batch = self._merge(queue, entries)
            except Exception:
                self._settings.logger.exception("cannot read %d queued span(s) back; skipping them", len(entries))
                queue.done(entries)
                continue
            delivered = self._deliver(batch)
            if delivered and (queue.survives_power_cut or batch.on_stored):
                # a copy that survives a power cut (the queue's, or a durable source's such as a Redis stream
                # waiting in on_stored) is let go only once the peer synced the batch
                acks.delivered(entries, batch)
                continue
            if delivered:
                batch.stored()
            if delivered is None and queue.persistent:
                queue.release(entries)  # stays on disk, delivered after the next start
                continue
            if delivered is None:
                self._failed.inc(len(batch))
                self._settings.logger.error("lost %d span(s): the peer stayed down through shutdown", len(batch))
            queue.done(entries)

    @staticmethod
    def _merge(queue: MemoryQueue, entries: list[Entry]) -> SpanBatch:
        if len(entries) == 1:
            return queue.load(entries[0])
        merged = SpanBatch()
        for entry in entries:
            merged.extend(queue.load(entry))
        return merged

    def _deliver(self, batch: SpanBatch) -> bool | None:
        """Send with retries: True when delivered, False when given up (counted), None when stopped by shutdown."""
        backoff = self._helper.retry_on_failure.backoff()
        log = self._settings.logger
        while True:
            try:
                self.send(batch)
            except Permanent as exc:
                self._gave_up = exc
                self._failed.inc(len(batch))
                log.error("dropped %d span(s), the peer will never take them: %s", len(batch), exc)
                return False
            except Exception as exc:
                self._mark_down(exc)
                wait = backoff.next_wait(exc.retry_after if isinstance(exc, Throttled) else None)
                if wait is None:
                    self._gave_up = exc
                    self._failed.inc(len(batch))
                    log.error("gave up on %d span(s) (retry_on_failure.max_elapsed_time): %s", len(batch), exc)
                    return False
                log.warning("delivering %d span(s) failed, retrying in %.2fs: %s", len(batch), wait, exc)
                self._retries.inc()
                if self._stop_retrying.wait(wait):
                    return None
                continue
            self._sent.inc(len(batch))
            self._mark_up()
            return True

    def _sync_health(self, error: Exception | None) -> None:
        if error is None:
            self._mark_up()
        else:
            self._mark_down(error)

    def _mark_up(self) -> None:
        if self._down is not None:
            self._down = None
            self._settings.logger.info("%s delivers again", self._settings.id)
            self.peer_up(True, None)

    def _mark_down(self, exc: Exception) -> None:
        retry_after = self._helper.sending_queue.retry_after / 1e9
        overloaded = isinstance(exc, Throttled) and exc.overloaded
        down = Refused(f"{self._settings.id}: {exc}", retry_after, overloaded)
        first = self._down is None
        self._down = down
        if first:
            self.peer_up(False, exc)
