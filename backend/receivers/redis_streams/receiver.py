"""The ``redis_streams`` receiver: the ingester role's start, reading batches from a stream in a consumer group.

At-least-once: an entry is acknowledged (and deleted, so the stream's
length is the backlog the collectors' back-pressure watches) only after
storage committed its spans: the exporter at the end of the pipeline calls
the batch's ``on_stored``, with or without a batch processor or a sending
queue in between.  An entry the pipeline refuses stays pending and is
retried; entries handed on and not yet stored are skipped when this
consumer re-reads its pending ones.  Entries left pending by an ingester that died are claimed
after ``claim_idle`` by whichever ingester looks first (``XAUTOCLAIM``).  A
claimed entry may already have been stored: storage writes are idempotent
by trace and span id, so a second delivery stores nothing twice.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis

from backend.core.binding import ConfigError, Duration, bind
from backend.core.component import Consumer, Host, Receiver, ReceiverFactory, Refused, Settings
from backend.streams.span_stream import FIELD, BadEntry, decode

_TRANSPORT = "redis_streams"


@dataclass
class RedisStreamsReceiverOptions:
    url: str = "redis://127.0.0.1:6379/0"
    stream: str = "jaeger-spans"
    group: str = "ingesters"
    consumer: str = ""  # unique per ingester; default: host name and process id
    count: int = 20  # entries per read
    block: Duration = Duration(500_000_000)
    claim_idle: Duration = Duration(30_000_000_000)  # a pending entry idle this long is taken over
    claim_interval: Duration = Duration(5_000_000_000)


def _options(raw: Any, where: str) -> RedisStreamsReceiverOptions:
    options = bind(RedisStreamsReceiverOptions, raw, where)
    for name in ("count", "block", "claim_idle", "claim_interval"):
        if getattr(options, name) < 1:
            raise ConfigError(f"{where}.{name}", f"expected a positive value, got {getattr(options, name)}")
    return options


class RedisStreamsReceiver(Receiver):
    def __init__(self, settings: Settings, options: RedisStreamsReceiverOptions, next_consumer: Consumer):
        self._settings = settings
        self._options = options
        self._next = next_consumer
        self._consumer = options.consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._client: redis.Redis[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        metrics = settings.metrics
        self._accepted = metrics.accepted.labels(settings.id, _TRANSPORT)
        self._refused = metrics.refused.labels(settings.id, _TRANSPORT)
        self._failed = metrics.failed_requests
        self._in_flight: set[bytes] = set()  # entries handed on whose batch is not stored yet
        self._acks: redis.Redis[bytes]

    def start(self, host: Host) -> None:
        options = self._options
        try:
            self._client = redis.Redis.from_url(options.url)
            # a client of its own for acknowledgements, which arrive from exporter threads, also after shutdown
            self._acks = redis.Redis.from_url(options.url)
        except ValueError as exc:
            raise ConfigError(f"{self._settings.where}.url", str(exc)) from exc
        try:
            self._client.xgroup_create(options.stream, options.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._thread = threading.Thread(target=self._run, name=f"{self._settings.id}-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending: str | None = "0"  # a cursor through this consumer's own pending entries; None once through
        next_claim = 0.0
        log = self._settings.logger
        while not self._stopping.is_set():
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
            except redis.RedisError as exc:
                log.warning("reading the span stream failed, retrying: %s", exc)
                self._stopping.wait(1.0)

    def _read(self, from_id: str) -> list[tuple[bytes, dict[bytes, bytes] | None]]:
        options = self._options
        block = None if from_id == "0" else int(options.block / 1e6)
        found = self._redis().xreadgroup(
            options.group, self._consumer, {options.stream: from_id}, count=options.count, block=block
        )
        return found[0][1] if found else []

    def _claim(self) -> list[tuple[bytes, dict[bytes, bytes] | None]]:
        options = self._options
        claimed = self._redis().xautoclaim(
            options.stream, options.group, self._consumer, int(options.claim_idle / 1e6), "0-0", count=options.count
        )
        entries: list[tuple[bytes, dict[bytes, bytes] | None]] = claimed[1]
        return entries

    def _redis(self) -> redis.Redis[bytes]:
        assert self._client is not None, "read before start"
        return self._client

    def _handle(self, entries: list[tuple[bytes, dict[bytes, bytes] | None]]) -> bool:
        """Hand each entry on; False when the pipeline refused one (it and the rest stay pending).

        An entry is acknowledged when the exporter at the end of the pipeline calls the batch's
        ``on_stored``: after storage committed it, however many queues it went through.
        """
        for entry_id, fields in entries:
            if entry_id in self._in_flight:
                continue  # handed on already, not yet stored
            if not fields:
                self._ack(entry_id)  # deleted from the stream meanwhile
                continue
            try:
                batch = decode(fields.get(FIELD, b""))
            except BadEntry as exc:
                self._failed.labels(self._settings.id, _TRANSPORT, "malformed").inc()
                self._settings.logger.warning("dropped stream entry %s: %s", entry_id.decode(), exc)
                self._ack(entry_id)
                continue
            batch.on_stored.append(functools.partial(self._ack, entry_id))
            self._in_flight.add(entry_id)
            try:
                self._next.consume(batch)
            except Refused as exc:
                self._in_flight.discard(entry_id)
                return self._back_off(len(batch), exc.retry_after)
            except Exception:
                self._in_flight.discard(entry_id)
                self._settings.logger.exception("the pipeline failed on stream entry %s", entry_id.decode())
                return self._back_off(len(batch), 1.0)
            self._accepted.inc(len(batch))
        return True

    def _ack(self, entry_id: bytes) -> None:
        """Acknowledge and delete, so the stream's length is the backlog collectors watch; on any thread."""
        try:
            with self._acks.pipeline(transaction=False) as pipe:
                pipe.xack(self._options.stream, self._options.group, entry_id)
                pipe.xdel(self._options.stream, entry_id)
                pipe.execute()
        except redis.RedisError as exc:  # it stays pending: delivered again later, and storage writes are idempotent
            self._settings.logger.warning("acknowledging stream entry %s failed: %s", entry_id.decode(), exc)
        finally:
            self._in_flight.discard(entry_id)

    def _back_off(self, spans: int, seconds: float) -> bool:
        self._refused.inc(spans)
        self._failed.labels(self._settings.id, _TRANSPORT, "refused").inc()
        self._stopping.wait(min(max(seconds, 0.05), 5.0))
        return False

    def shutdown(self) -> None:
        """Stop reading.  Entries handed on are acknowledged as the exporters drain, through ``_acks``, which
        stays open for them (closed with the process)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None


FACTORY = ReceiverFactory("redis_streams", _options, RedisStreamsReceiver)
