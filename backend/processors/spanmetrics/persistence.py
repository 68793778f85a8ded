"""Keeping the time-series buckets in the trace storage's own database, so history survives a restart.

Why a table rather than recomputing from stored spans at start-up: the reader
interface has no cheap "every span in this window" scan, a day of spans can
be millions of rows while a day of buckets is a few thousand, and the
buckets count every span that passed, including ones storage later drops by
retention.  One row per (bucket, series), upserted whenever the bucket
changed, so a flush may repeat without double counting.

A SQL storage gets the table beside its span tables, on its own engine and
schema; a Redis storage gets a hash per bucket under its key prefix, indexed
by a sorted set; a memory storage needs none (its spans die with the process too).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, Text, delete, select

from backend.processors.spanmetrics.series import Cell, SeriesKey
from backend.processors.spanmetrics.store import Bucket
from backend.storage.api import Storage
from backend.storage.sql.upsert import upsert_for

if TYPE_CHECKING:
    from backend.storage.redis.client import Client


class PointStore(Protocol):
    def save(self, buckets: dict[int, Bucket]) -> None: ...

    def load(self, since_ns: int) -> Iterator[tuple[int, SeriesKey, Cell]]: ...

    def purge(self, before_ns: int) -> None: ...


class SqlPointStore:
    """``engine`` belongs to the storage plug-in, which disposes of it."""

    def __init__(self, engine: Engine, schema: str | None = None) -> None:
        self._engine = engine
        self._upsert = upsert_for(engine.dialect.name, "spanmetrics store")
        metadata = MetaData(schema=schema)
        self._points = Table(
            "spanmetrics_points",
            metadata,
            Column("bucket_ns", BigInteger, primary_key=True),
            Column("service", String(512), primary_key=True),
            Column("operation", String(1024), primary_key=True),
            Column("kind", Integer, primary_key=True),
            Column("status", Integer, primary_key=True),
            Column("calls", BigInteger, nullable=False),
            Column("sum_ns", BigInteger, nullable=False),
            Column("counts", Text, nullable=False),  # JSON list of per-bucket counts, +Inf last
        )
        metadata.create_all(engine, checkfirst=True)

    def save(self, buckets: dict[int, Bucket]) -> None:
        rows = [
            {
                "bucket_ns": bucket_ns,
                "service": service,
                "operation": operation,
                "kind": kind,
                "status": status,
                "calls": cell[0],
                "sum_ns": cell[1],
                "counts": json.dumps(cell[2], separators=(",", ":")),
            }
            for bucket_ns, bucket in buckets.items()
            for (service, operation, kind, status), cell in bucket.items()
        ]
        if not rows:
            return
        statement = self._upsert(self._points)
        statement = statement.on_conflict_do_update(
            index_elements=["bucket_ns", "service", "operation", "kind", "status"],
            set_={name: statement.excluded[name] for name in ("calls", "sum_ns", "counts")},
        )
        with self._engine.begin() as connection:
            connection.execute(statement, rows)

    def load(self, since_ns: int) -> Iterator[tuple[int, SeriesKey, Cell]]:
        p = self._points
        query = select(
            p.c.bucket_ns, p.c.service, p.c.operation, p.c.kind, p.c.status, p.c.calls, p.c.sum_ns, p.c.counts
        )
        with self._engine.connect() as connection:
            for row in connection.execute(query.where(p.c.bucket_ns >= since_ns)):
                yield row[0], (row[1], row[2], row[3], row[4]), [row[5], row[6], json.loads(row[7])]

    def purge(self, before_ns: int) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(self._points).where(self._points.c.bucket_ns < before_ns))


class RedisPointStore:
    """Bucket ``B`` is the hash ``<prefix>:{spanmetrics}:bucket:B`` (series JSON → cell JSON), its index a sorted set.

    Index scores are microseconds: exact in a double, and bucket starts are whole milliseconds.  The
    ``{spanmetrics}`` hash tag keeps every key in one slot, so the transactions below work on Redis Cluster.
    """

    def __init__(self, client: Client, prefix: str) -> None:
        self._client = client
        self._index = f"{prefix}:{{spanmetrics}}:buckets"
        self._bucket = f"{prefix}:{{spanmetrics}}:bucket:"

    def save(self, buckets: dict[int, Bucket]) -> None:
        if not buckets:
            return
        with self._client.pipeline(transaction=True) as pipe:
            for bucket_ns, bucket in buckets.items():
                fields: dict[str | bytes, str] = {
                    json.dumps(list(key)): json.dumps(cell, separators=(",", ":")) for key, cell in bucket.items()
                }
                if fields:
                    pipe.hset(self._bucket + str(bucket_ns), mapping=fields)
                    pipe.zadd(self._index, {str(bucket_ns): bucket_ns // 1000})
            pipe.execute()

    def load(self, since_ns: int) -> Iterator[tuple[int, SeriesKey, Cell]]:
        for member in self._client.zrangebyscore(self._index, since_ns // 1000, "+inf"):
            bucket_ns = int(member)
            for key, cell in self._client.hgetall(self._bucket + str(bucket_ns)).items():
                service, operation, kind, status = json.loads(key)
                yield bucket_ns, (service, operation, kind, status), json.loads(cell)

    def purge(self, before_ns: int) -> None:
        old = self._client.zrangebyscore(self._index, "-inf", f"({before_ns // 1000}")
        if old:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(*(self._bucket + member.decode() for member in old))
                pipe.zrem(self._index, *old)
                pipe.execute()


def point_store_for(storage: Storage) -> PointStore | None:
    """Where ``storage`` can keep metric history, or ``None`` when it cannot (or need not)."""
    offered = getattr(storage, "spanmetrics_store", None)
    if callable(offered):
        store: PointStore | None = offered()
        return store
    from backend.storage.redis.store import RedisStorage
    from backend.storage.sql.store import SqlStorage

    if isinstance(storage, SqlStorage):
        return SqlPointStore(storage._engine, schema=storage._tables.metadata.schema)
    if isinstance(storage, RedisStorage):
        return RedisPointStore(storage._client, storage._keys.prefix)
    return None
