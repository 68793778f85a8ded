"""One partition of the span stream, read by one thread of an ingester: its own pending entries, claims, new entries.

The loop first goes through what this consumer name left unacknowledged (a
restart under the same name, or entries the pipeline refused), every
``claim_interval`` claims entries other ingesters left idle for
``claim_idle``, and otherwise blocks for new ones.  The entries of one read
go on as one batch whose ``on_stored`` callback acknowledges them all once
storage committed it; until then they are in flight and skipped when the
pending ones are read again.  Redis errors (a master being replaced, MOVED
while the slot map changes) are logged and retried after a second: the
entries wait in the stream.
"""

from __future__ import annotations

import functools
import threading
import time
from operator import methodcaller
from typing import TYPE_CHECKING

from backend.core.component import Consumer, Refused, Settings
from backend.spans.model import SpanBatch
from backend.storage.redis.client import ERRORS, Client, run
from backend.streams.span_stream import FIELD, BadEntry, decode

if TYPE_CHECKING:
    from backend.receivers.redis_streams.receiver import RedisStreamsReceiverOptions

Entries = list[tuple[bytes, dict[bytes, bytes] | None]]
_TRANSPORT = "redis_streams"


class PartitionReader:
    def __init__(
        self,
        settings: Settings,
        options: RedisStreamsReceiverOptions,
        consumer: str,
        key: str,
        client: Client,
        acks: Client,
        next_consumer: Consumer,
        stopping: threading.Event,
    ) -> None:
        self._settings = settings
        self._options = options
        self._consumer = consumer
        self._key = key
        self._client = client
        self._acks = acks  # used from exporter threads, also after the reader stopped
        self._next = next_consumer
        self._stopping = stopping
        self._in_flight: set[bytes] = set()  # entries handed on whose batch is not stored yet
        metrics = settings.metrics
        self._accepted = metrics.accepted.labels(settings.id, _TRANSPORT)
        self._refused = metrics.refused.labels(settings.id, _TRANSPORT)
        self._failed = metrics.failed_requests

    def run(self) -> None:
        stopping = self._stopping
        pending: str | None = "0"  # a cursor through this consumer's own pending entries; None once through
        next_claim = 0.0
        while not stopping.is_set():
            try:
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self._options.claim_interval / 1e9
                    if not self._handle(self._claim()):
                        pending = "0"
                        continue
                entries = self._read(pending or ">")
                if pending is not None:
                    pending = entries[-1][0].decode() if entries else None
                if not self._handle(entries):
                    pending = "0"
            except ERRORS as exc:
                self._settings.logger.warning("reading span stream partition %s failed, retrying: %s", self._key, exc)
                stopping.wait(1.0)

    def _read(self, from_id: str) -> Entries:
        options = self._options
        block = None if from_id != ">" else int(options.block / 1e6)
        found = self._client.xreadgroup(
            options.group, self._consumer, {self._key: from_id}, count=options.count, block=block
        )
        return found[0][1] if found else []

    def _claim(self) -> Entries:
        options = self._options
        claimed = self._client.xautoclaim(
            self._key, options.group, self._consumer, int(options.claim_idle / 1e6), "0-0", count=options.count
        )
        entries: Entries = claimed[1]
        return entries

    def _handle(self, entries: Entries) -> bool:
        """Hand the entries not in flight on as one batch; False when the pipeline refused it (they stay pending).

        One storage write and one acknowledgement per read instead of per entry: the round trips, not the CPU,
        are what an ingester waits on.
        """
        ids = [entry_id for entry_id, _ in entries if entry_id not in self._in_flight]
        if not ids:
            return True
        batch = SpanBatch()
        for entry_id, fields in entries:
            if entry_id in self._in_flight or not fields:  # handed on already, or deleted since: nothing to store
                continue
            try:
                part = decode(fields.get(FIELD, b""))
            except BadEntry as exc:
                self._failed.labels(self._settings.id, _TRANSPORT, "malformed").inc()
                self._settings.logger.warning("dropped stream entry %s: %s", entry_id.decode(), exc)
                continue
            batch.spans += part.spans
            batch.processes.update(part.processes)
        if not batch.spans:
            self._ack(ids)
            return True
        batch.on_stored.append(functools.partial(self._ack, ids))
        self._in_flight.update(ids)
        try:
            self._next.consume(batch)
        except Refused as exc:
            self._in_flight.difference_update(ids)
            return self._back_off(len(batch), exc.retry_after)
        except Exception:
            self._in_flight.difference_update(ids)
            self._settings.logger.exception("the pipeline failed on %d stream entries of %s", len(ids), self._key)
            return self._back_off(len(batch), 1.0)
        self._accepted.inc(len(batch))
        return True

    def _ack(self, ids: list[bytes]) -> None:
        """Acknowledge and delete, so the partition's length is the backlog collectors watch; on any thread."""
        key, group = self._key, self._options.group
        try:
            run(self._acks, [(key, methodcaller("xack", key, group, *ids)), (key, methodcaller("xdel", key, *ids))])
        except ERRORS as exc:  # they stay pending: delivered again later, and storage writes are idempotent
            self._settings.logger.warning("acknowledging %d entries of %s failed: %s", len(ids), key, exc)
        finally:
            self._in_flight.difference_update(ids)

    def _back_off(self, spans: int, seconds: float) -> bool:
        self._refused.inc(spans)
        self._failed.labels(self._settings.id, _TRANSPORT, "refused").inc()
        self._stopping.wait(min(max(seconds, 0.05), 5.0))
        return False
