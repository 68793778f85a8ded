"""The ``redis`` plug-in: traces in a Redis server, or in an embedded one (``embedded_redis``) when no URL is given.

Key layout and encoding are in ``redis_layout``.  A batch is written in one
``MULTI``/``EXEC`` transaction, so readers see it whole.  Retention: every
write sets the trace hash's TTL to ``retention`` (a trace lives that long
after its last span arrived); ``purge_expired`` trims the index entries older
than ``retention``, which is the only part Redis cannot expire on its own.

How find-traces scales: a search walks one sorted set (the service's, or the
all-spans one) newest first, in pages of ``scan_page`` entries, between the
query's time bounds: O(log N) to seek plus the entries it reads.  Operation,
kind and duration filters run on the index members themselves; only tag
searches fetch spans, a page at a time, and stop at ``limit`` traces.  A
selective tag search over a long time window therefore reads many entries:
narrow the window or the service.

Sorted, counted search (``search_summaries``) has no early stop: it reads
every index entry in the window, then asks each matching trace's hash for
its spans' packed headers without payloads (``SPAN_HEADERS_SCRIPT``, pipelined
``scan_page`` traces at a time) to learn its extent, size, root, errors and
services, and sorts in Python.  Its cost grows with the match set.  On Redis Cluster the per-service index
keys spread over slots while each trace stays on one slot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from backend.core.binding import ConfigError, Duration
from backend.spans.model import KIND_BY_NAME, KIND_NAMES, SpanBatch, SpanRecord
from backend.storage.api import DependencyLink, Operation, StorageError, Trace, TraceQuery, TraceSummary
from backend.storage.dependencies import count_calls
from backend.storage.factory import StoragePlugin
from backend.storage.matching import ProcessCache, indexed_match, kind_filter, matcher_for, newest_trace_ids
from backend.storage.redis.calls import guarded
from backend.storage.redis.layout import (
    PROCESS_FIELD,
    SPAN_FIELD,
    SPAN_HEADERS_SCRIPT,
    Keys,
    pack_index_entry,
    pack_record,
    score,
    span_headers,
    unpack_index_entry,
    unpack_record,
)
from backend.storage.redis.sampling import RedisSamplingStore
from backend.storage.summaries import check_page, page_of, summarize
from embedded_redis import EmbeddedRedis

_HOUR_NS = 3_600_000_000_000


@dataclass
class RedisOptions:
    url: str = ""  # redis://host:port/db or unix://path; empty starts an embedded server (embedded_redis) at `path`
    path: str = "data/traces-redis.rdb"
    prefix: str = "jaeger"
    retention: Duration = Duration(72 * _HOUR_NS)  # 0 keeps spans forever
    scan_page: int = 1000

    def __post_init__(self) -> None:
        if self.retention < 0:
            raise ValueError(f"retention must not be negative, got {self.retention}ns")
        if self.scan_page < 1:
            raise ValueError(f"scan_page must be at least 1, got {self.scan_page}")
        if not self.prefix:
            raise ValueError("prefix must not be empty")


class RedisStorage:
    """Writer, reader and dependency reader in one object, over one connection pool."""

    def __init__(self, options: RedisOptions, where: str = "redis") -> None:
        self._retention_ns = int(options.retention)
        self._page = options.scan_page
        self._keys = Keys(options.prefix)
        self._embedded: EmbeddedRedis | None = None
        if options.url:
            try:
                self._client = redis.Redis.from_url(options.url)
            except ValueError as exc:
                raise ConfigError(
                    f"{where}.url", f"{exc}; expected redis://host:PORT/db with PORT from 1 to 65535, or unix://path"
                ) from exc
        else:
            self._embedded = EmbeddedRedis(Path(options.path))
            self._client = redis.Redis.from_url(self._embedded.url)
        try:
            self._client.ping()
        except redis.RedisError as exc:
            self.close()
            raise StorageError(f"cannot reach Redis at {options.url or options.path}: {exc}") from exc
        self._process_cache = ProcessCache()
        self._span_headers = self._client.register_script(SPAN_HEADERS_SCRIPT)
        self._sampling = RedisSamplingStore(self._client, self._keys.prefix)

    # Storage

    def writer(self) -> RedisStorage:
        return self

    def reader(self) -> RedisStorage:
        return self

    def dependency_reader(self) -> RedisStorage:
        return self

    def sampling_store(self) -> RedisSamplingStore:
        """Adaptive sampling's store in the same Redis, so every backend sharing it agrees."""
        return self._sampling

    def purge_expired(self, now_ns: int) -> int:
        """Drop index entries older than the retention; the traces themselves expire by TTL."""
        if not self._retention_ns:
            return 0
        cutoff = f"({score(now_ns - self._retention_ns)}"
        try:
            services = [name.decode() for name in self._client.smembers(self._keys.services)]
            with self._client.pipeline(transaction=False) as pipe:
                pipe.zremrangebyscore(self._keys.index_all, "-inf", cutoff)
                for service in services:
                    pipe.zremrangebyscore(self._keys.index(service), "-inf", cutoff)
                removed = pipe.execute()
        except redis.RedisError as exc:
            raise StorageError(f"purging spans older than the retention failed: {exc}") from exc
        return int(removed[0])

    def close(self) -> None:
        self._client.close()
        if self._embedded is not None:
            self._embedded.close()
            self._embedded = None

    # SpanWriter

    def write(self, batch: SpanBatch) -> None:
        if not batch.spans:
            return
        keys = self._keys
        # keys typed as redis-py's mappings want them (str | bytes), though only bytes are used
        by_trace: dict[bytes, dict[str | bytes, bytes]] = {}
        by_service: dict[str, dict[str | bytes, int]] = {}
        every: dict[str | bytes, int] = {}
        operations: dict[str, set[str]] = {}
        for record in batch.spans:
            fields = by_trace.setdefault(record.trace_id, {})
            fields[SPAN_FIELD + record.span_id] = pack_record(record)
            blob = batch.processes.get(record.process_id)
            if blob is not None:
                fields[PROCESS_FIELD + record.process_id] = blob
            member = pack_index_entry(record)
            every[member] = by_service.setdefault(record.service, {})[member] = score(record.start_ns)
            operations.setdefault(record.service, set()).add(f"{KIND_NAMES.get(record.kind, '')}:{record.name}")
        try:
            with self._client.pipeline(transaction=True) as pipe:
                for trace_id, fields in by_trace.items():
                    key = keys.trace(trace_id)
                    pipe.hset(key, mapping=fields)
                    if self._retention_ns:
                        pipe.pexpire(key, max(self._retention_ns // 1_000_000, 1))
                for service, members in by_service.items():
                    pipe.zadd(keys.index(service), members)
                    pipe.sadd(keys.operations(service), *operations[service])
                pipe.zadd(keys.index_all, every)
                pipe.sadd(keys.services, *by_service)
                pipe.execute()
        except redis.RedisError as exc:
            raise StorageError(f"writing {len(batch.spans)} span(s) to Redis failed: {exc}") from exc

    # SpanReader

    def get_trace(self, trace_id: bytes) -> Trace | None:
        fields = self._call(self._client.hgetall, self._keys.trace(trace_id))
        return _trace(trace_id, fields)

    def find_trace_ids(self, query: TraceQuery) -> list[bytes]:
        return self._matching(query, query.limit)

    def search_summaries(self, query: TraceQuery, sort: str, offset: int, limit: int) -> tuple[int, list[TraceSummary]]:
        check_page(sort, offset, limit)
        trace_ids = self._matching(query, sys.maxsize)
        summaries = []
        for at in range(0, len(trace_ids), self._page):
            chunk = trace_ids[at : at + self._page]
            with self._client.pipeline(transaction=False) as pipe:
                for trace_id in chunk:
                    self._span_headers(keys=[self._keys.trace(trace_id)], client=pipe)
                found = self._call(pipe.execute)
            for trace_id, headers in zip(chunk, found, strict=True):
                summary = summarize(trace_id, span_headers(trace_id, headers))
                if summary is not None:  # None: the trace expired since the index was read
                    summaries.append(summary)
        return page_of(summaries, sort, offset, limit)

    def _matching(self, query: TraceQuery, limit: int) -> list[bytes]:
        processes: dict[bytes, bytes] = {}  # blobs of this query's candidates, for the matcher
        matcher = matcher_for(query, self._process_cache, processes.get)
        candidates = self._candidates(query, processes if matcher else None)
        return newest_trace_ids(candidates, matcher, limit)

    def _candidates(self, query: TraceQuery, processes: dict[bytes, bytes] | None) -> Iterator[SpanRecord]:
        """Index entries that pass the indexed filters, newest first.

        With ``processes`` (a tag search), each page's stored spans are
        fetched instead, and their processes' blobs added to ``processes``.
        """
        kind = kind_filter(query.span_kind)
        if kind == -1:
            return
        key = self._keys.index(query.service) if query.service else self._keys.index_all
        high = "+inf" if query.start_max_ns is None else score(query.start_max_ns + 999)
        low = "-inf" if query.start_min_ns is None else score(query.start_min_ns)
        offset = 0
        while True:
            members = self._call(self._client.zrevrangebyscore, key, high, low, start=offset, num=self._page)
            offset += len(members)
            page = [entry for entry in map(unpack_index_entry, members) if indexed_match(entry, query, kind)]
            page.sort(key=lambda entry: entry.start_ns, reverse=True)
            yield from page if processes is None else self._stored(page, processes)
            if len(members) < self._page:
                return

    def _stored(self, entries: list[SpanRecord], processes: dict[bytes, bytes]) -> list[SpanRecord]:
        """The stored spans behind index entries (those whose trace has expired are skipped)."""
        with self._client.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.hget(self._keys.trace(entry.trace_id), SPAN_FIELD + entry.span_id)
            values = self._call(pipe.execute)
        records = [unpack_record(e.trace_id, e.span_id, v) for e, v in zip(entries, values, strict=True) if v]
        owners = {r.process_id: r.trace_id for r in records if r.process_id not in processes}
        if owners:
            with self._client.pipeline(transaction=False) as pipe:
                for process_id, trace_id in owners.items():
                    pipe.hget(self._keys.trace(trace_id), PROCESS_FIELD + process_id)
                blobs = self._call(pipe.execute)
            processes.update((pid, blob) for pid, blob in zip(owners, blobs, strict=True) if blob is not None)
        return records

    def find_traces(self, query: TraceQuery) -> list[Trace]:
        trace_ids = self.find_trace_ids(query)
        return [trace for trace in self._traces(trace_ids) if trace is not None]

    def _traces(self, trace_ids: list[bytes]) -> list[Trace | None]:
        with self._client.pipeline(transaction=False) as pipe:
            for trace_id in trace_ids:
                pipe.hgetall(self._keys.trace(trace_id))
            found = self._call(pipe.execute)
        return [_trace(trace_id, fields) for trace_id, fields in zip(trace_ids, found, strict=True)]

    def get_services(self) -> list[str]:
        return sorted(name.decode() for name in self._call(self._client.smembers, self._keys.services))

    def get_operations(self, service: str, span_kind: str | None = None) -> list[Operation]:
        operations = []
        for value in self._call(self._client.smembers, self._keys.operations(service)):
            kind, _, name = value.decode().partition(":")
            if kind in KIND_BY_NAME and (not span_kind or kind == span_kind):
                operations.append(Operation(name, kind))
        return sorted(operations, key=lambda op: (op.name, op.span_kind))

    # DependencyReader

    def get_dependencies(self, end_ns: int, lookback_ns: int) -> list[DependencyLink]:
        start_ns = end_ns - lookback_ns
        members = self._call(self._client.zrangebyscore, self._keys.index_all, score(start_ns), score(end_ns + 999))
        trace_ids = list(dict.fromkeys(unpack_index_entry(member).trace_id for member in members))
        traces = [trace.spans for trace in self._traces(trace_ids) if trace is not None]
        return count_calls(traces, start_ns, end_ns)

    def _call(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return guarded("reading from Redis failed", operation, *args, **kwargs)


def _trace(trace_id: bytes, fields: dict[bytes, bytes]) -> Trace | None:
    spans = []
    processes = {}
    for field, value in fields.items():
        if field[:1] == SPAN_FIELD:
            spans.append(unpack_record(trace_id, field[1:], value))
        elif field[:1] == PROCESS_FIELD:
            processes[field[1:]] = value
    if not spans:
        return None
    spans.sort(key=lambda record: record.start_ns)
    return Trace(spans, processes)


PLUGIN = StoragePlugin(RedisOptions, RedisStorage)
