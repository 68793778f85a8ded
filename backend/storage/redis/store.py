"""The ``redis`` plug-in: traces in a Redis server, or in an embedded one (``embedded_redis``) when no URL is given.

Key layout and encoding are in ``layout``; ``url`` names one server or,
as ``redis+cluster://host:port[,host:port…]``, a Redis Cluster (``client``).
A batch is written as pipelines, one per node, no transaction: first the
trace hashes, then the index entries, so an index entry never points to a
span not yet stored (a reader may see a batch half indexed, never an index
ahead of its spans).  Writing a batch twice stores it once: span fields,
index members and set members are keyed by trace and span id.

On a cluster the global indexes are sharded (``index_shards``) so no key or
node takes every write, and a write waits for ``min_replicas_ack`` replicas
of each master it touched (``WAIT``) before it counts as done, riding out a
failover (MOVED, a master being replaced) for up to ``failover_timeout``
(``client.DurabilityOptions`` says what that trades).

Retention: every write sets the trace hash's TTL to ``retention`` (a trace
lives that long after its last span arrived); ``purge_expired`` trims the
index entries older than ``retention``, which is the only part Redis cannot
expire on its own.

How find-traces scales: a search walks one sorted set (the service's, or the
all-spans one; its shards merged) newest first, in pages of ``scan_page`` entries, between the
query's time bounds: O(log N) to seek plus the entries it reads.  Operation,
kind and duration filters run on the index members themselves; only tag
searches fetch spans, a page at a time, and stop at ``limit`` traces.  A
selective tag search over a long time window therefore reads many entries:
narrow the window or the service.

Sorted, counted search (``search_summaries``) has no early stop: it reads
every index entry in the window, then asks each matching trace's hash for
its spans' packed headers without payloads (``SPAN_HEADERS_SCRIPT``, pipelined
``scan_page`` traces at a time) to learn its extent, size, root, errors and
services, and sorts in Python.  Its cost grows with the match set.
"""

from __future__ import annotations

import heapq
import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path
from typing import Any

import redis
from redis.client import Pipeline

from backend.core.binding import Duration
from backend.spans.model import KIND_BY_NAME, KIND_NAMES, SpanBatch, SpanRecord
from backend.storage.api import DependencyLink, Operation, StorageError, Trace, TraceQuery, TraceSummary
from backend.storage.dependencies import count_calls
from backend.storage.factory import StoragePlugin
from backend.storage.matching import ProcessCache, indexed_match, kind_filter, matcher_for, newest_trace_ids
from backend.storage.redis.calls import guarded
from backend.storage.redis.client import ERRORS, Call, Client, DurabilityOptions, connect, is_cluster, run, script
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
CLUSTER_INDEX_SHARDS = 6  # two per master of a minimal (3-master) cluster
_KNOWN_LIMIT = 100_000  # (service, operation) pairs remembered as already in the sets


@dataclass
class RedisOptions(DurabilityOptions):
    url: str = ""  # redis://host:port/db, unix://path or redis+cluster://host:port,…; empty: embedded, at `path`
    path: str = "data/traces-redis.rdb"
    prefix: str = "jaeger"
    retention: Duration = Duration(72 * _HOUR_NS)  # 0 keeps spans forever
    scan_page: int = 1000
    index_shards: int | None = None  # None: 1 on a single server, 6 on a cluster; keep it once data is written

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.retention < 0:
            raise ValueError(f"retention must not be negative, got {self.retention}ns")
        if self.scan_page < 1:
            raise ValueError(f"scan_page must be at least 1, got {self.scan_page}")
        if not self.prefix:
            raise ValueError("prefix must not be empty")
        if self.index_shards is not None and self.index_shards < 1:
            raise ValueError(f"index_shards must be at least 1, got {self.index_shards}")


class RedisStorage:
    """Writer, reader and dependency reader in one object, over one client (a server's pool, or a cluster's)."""

    def __init__(self, options: RedisOptions, where: str = "redis") -> None:
        self._retention_ns = int(options.retention)
        self._page = options.scan_page
        self._embedded: EmbeddedRedis | None = None
        self._client: Client
        if options.url:
            self._client = connect(options.url, f"{where}.url")
        else:
            self._embedded = EmbeddedRedis(Path(options.path))
            self._client = redis.Redis.from_url(self._embedded.url)
        try:
            self._client.ping()
        except ERRORS as exc:
            self.close()
            raise StorageError(f"cannot reach Redis at {options.url or options.path}: {exc}") from exc
        cluster = is_cluster(self._client)
        self._keys = Keys(options.prefix, options.index_shards or (CLUSTER_INDEX_SHARDS if cluster else 1))
        self._replication = options.replication(self._client)
        self._patience = options.patience
        self._known: set[tuple[str, str]] = set()  # (service, kind:operation) already in the sets
        self._process_cache = ProcessCache()
        self._span_headers = script(self._client, SPAN_HEADERS_SCRIPT)
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
            keys = list(self._keys.index_all)
            keys += [key for service in services for key in self._keys.index(service)]
            removed = run(self._client, [(key, methodcaller("zremrangebyscore", key, "-inf", cutoff)) for key in keys])
        except ERRORS as exc:
            raise StorageError(f"purging spans older than the retention failed: {exc}") from exc
        return sum(removed[: self._keys.shards])

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
        by_index: dict[str, dict[str | bytes, int]] = {}
        new: set[tuple[str, str]] = set()
        for record in batch.spans:
            fields = by_trace.setdefault(record.trace_id, {})
            fields[SPAN_FIELD + record.span_id] = pack_record(record)
            blob = batch.processes.get(record.process_id)
            if blob is not None:
                fields[PROCESS_FIELD + record.process_id] = blob
            member, at, shard = pack_index_entry(record), score(record.start_ns), keys.shard(record.trace_id)
            by_index.setdefault(keys.index_all[shard], {})[member] = at
            by_index.setdefault(keys.index(record.service)[shard], {})[member] = at
            operation = (record.service, f"{KIND_NAMES.get(record.kind, '')}:{record.name}")
            if operation not in self._known:
                new.add(operation)
        spans: list[Call] = []
        for trace_id, fields in by_trace.items():
            key = keys.trace(trace_id)
            spans.append((key, methodcaller("hset", key, mapping=fields)))
            if self._retention_ns:
                spans.append((key, methodcaller("pexpire", key, max(self._retention_ns // 1_000_000, 1))))
        index: list[Call] = [(key, methodcaller("zadd", key, members)) for key, members in by_index.items()]
        for service, group in itertools.groupby(sorted(new), key=lambda pair: pair[0]):
            names = [operation for _, operation in group]
            index.append((keys.operations(service), methodcaller("sadd", keys.operations(service), *names)))
        if new:
            services = {service for service, _ in new}
            index.append((keys.services, methodcaller("sadd", keys.services, *services)))
        try:
            if is_cluster(self._client):  # nodes run their pipelines independently: spans first, then the index
                run(self._client, spans, self._replication, self._patience)
                run(self._client, index, self._replication, self._patience)
            else:
                run(self._client, spans + index, self._replication)
        except ERRORS as exc:
            raise StorageError(f"writing {len(batch.spans)} span(s) to Redis failed: {exc}") from exc
        if len(self._known) + len(new) > _KNOWN_LIMIT:
            self._known.clear()
        self._known |= new

    def sync(self) -> None:
        """Nothing to do from here: a written span survives a power cut of the Redis host as its server's
        ``appendfsync`` says (``always``: before the write is answered; ``everysec``: up to a second lost), and a
        power cut of this backend's host alone loses nothing the server answered."""

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
            found = self._run([(key, self._script_call(key)) for key in map(self._keys.trace, chunk)])
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
        high = "+inf" if query.start_max_ns is None else score(query.start_max_ns + 999)
        low = "-inf" if query.start_min_ns is None else score(query.start_min_ns)
        shards = [self._newest_first(key, high, low) for key in self._keys.index(query.service)]
        merged = (member for member, _ in heapq.merge(*shards, key=lambda pair: -pair[1]))
        while members := list(itertools.islice(merged, self._page)):
            page = [entry for entry in map(unpack_index_entry, members) if indexed_match(entry, query, kind)]
            page.sort(key=lambda entry: entry.start_ns, reverse=True)
            yield from page if processes is None else self._stored(page, processes)

    def _newest_first(self, key: str, high: str | int, low: str | int) -> Iterator[tuple[bytes, float]]:
        """One index shard's (member, score) pairs between the bounds, newest first, read a page at a time."""
        offset = 0
        while True:
            found = self._call(
                self._client.zrevrangebyscore, key, high, low, start=offset, num=self._page, withscores=True
            )
            yield from found
            offset += len(found)
            if len(found) < self._page:
                return

    def _stored(self, entries: list[SpanRecord], processes: dict[bytes, bytes]) -> list[SpanRecord]:
        """The stored spans behind index entries (those whose trace has expired are skipped)."""
        values = self._run([self._hget(entry.trace_id, SPAN_FIELD + entry.span_id) for entry in entries])
        records = [unpack_record(e.trace_id, e.span_id, v) for e, v in zip(entries, values, strict=True) if v]
        owners = {r.process_id: r.trace_id for r in records if r.process_id not in processes}
        if owners:
            blobs = self._run([self._hget(trace_id, PROCESS_FIELD + pid) for pid, trace_id in owners.items()])
            processes.update((pid, blob) for pid, blob in zip(owners, blobs, strict=True) if blob is not None)
        return records

    def find_traces(self, query: TraceQuery) -> list[Trace]:
        trace_ids = self.find_trace_ids(query)
        return [trace for trace in self._traces(trace_ids) if trace is not None]

    def _traces(self, trace_ids: list[bytes]) -> list[Trace | None]:
        found = self._run([(key, methodcaller("hgetall", key)) for key in map(self._keys.trace, trace_ids)])
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
        low, high = score(start_ns), score(end_ns + 999)
        shards = self._run([(key, methodcaller("zrangebyscore", key, low, high)) for key in self._keys.index_all])
        trace_ids = list(dict.fromkeys(unpack_index_entry(member).trace_id for members in shards for member in members))
        traces = [trace.spans for trace in self._traces(trace_ids) if trace is not None]
        return count_calls(traces, start_ns, end_ns)

    def _hget(self, trace_id: bytes, field: bytes) -> Call:
        key = self._keys.trace(trace_id)
        return key, methodcaller("hget", key, field)

    def _script_call(self, key: str) -> Callable[[Pipeline[bytes]], object]:
        return lambda pipe: self._span_headers(keys=[key], client=pipe)

    def _run(self, calls: list[Call]) -> list[Any]:
        """Reads grouped per node (one round trip each); a failover in progress is an error to retry later."""
        return list(self._call(run, self._client, calls))

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
