"""The ``redis_streams`` receiver: the ingester role's start, reading batches from a stream in a consumer group.

At-least-once: an entry is acknowledged (and deleted, so the stream's
length is the backlog the collectors' back-pressure watches) only after the
pipeline took it; with no batch processor in the ingester's pipeline that
means after storage has it.  An entry the pipeline refuses stays pending
and is retried.  Entries left pending by an ingester that died are claimed
after ``claim_idle`` by whichever ingester looks first (``XAUTOCLAIM``).  A
claimed entry may already have been stored: storage writes are idempotent
by trace and span id, so a second delivery stores nothing twice.
"""

from __future__ import annotations

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

    def start(self, host: Host) -> None:
        options = self._options
        try:
            self._client = redis.Redis.from_url(options.url)
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
        own_pending = True  # first take back what this consumer name left unacknowledged
        next_claim = 0.0
        log = self._settings.logger
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self._options.claim_interval / 1e9
                    if not self._handle(self._claim()):
                        own_pending = True
                        continue
                entries = self._read("0" if own_pending else ">")
                if own_pending and not entries:
                    own_pending = False
                    continue
                if not self._handle(entries):
                    own_pending = True
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
        """Hand each entry on and acknowledge it; False when the pipeline refused (the rest stay pending)."""
        for entry_id, fields in entries:
            if fields:
                try:
                    batch = decode(fields.get(FIELD, b""))
                except BadEntry as exc:
                    self._failed.labels(self._settings.id, _TRANSPORT, "malformed").inc()
                    self._settings.logger.warning("dropped stream entry %s: %s", entry_id.decode(), exc)
                else:
                    try:
                        self._next.consume(batch)
                    except Refused as exc:
                        return self._back_off(len(batch), exc.retry_after)
                    except Exception:
                        self._settings.logger.exception("the pipeline failed on stream entry %s", entry_id.decode())
                        return self._back_off(len(batch), 1.0)
                    self._accepted.inc(len(batch))
            with self._redis().pipeline(transaction=False) as pipe:
                pipe.xack(self._options.stream, self._options.group, entry_id)
                pipe.xdel(self._options.stream, entry_id)
                pipe.execute()
        return True

    def _back_off(self, spans: int, seconds: float) -> bool:
        self._refused.inc(spans)
        self._failed.labels(self._settings.id, _TRANSPORT, "refused").inc()
        self._stopping.wait(min(max(seconds, 0.05), 5.0))
        return False

    def shutdown(self) -> None:
        """Stop reading; the entry being handled finishes (and is acknowledged) first."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None


FACTORY = ReceiverFactory("redis_streams", _options, RedisStreamsReceiver)
