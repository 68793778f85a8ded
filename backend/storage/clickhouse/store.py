"""The ``clickhouse`` plug-in assembled: connection, tables, writer, reader and the paired sampling store.

Adaptive sampling needs an atomic lease, which ClickHouse does not offer,
so this plug-in pairs with the ``sql`` plug-in's sampling store: a SQLite
file in ``path`` by default (the embedded engine's data folder), or
``sampling_url`` (PostgreSQL when several collectors share one ClickHouse
server).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from backend.storage.api import StorageError
from backend.storage.clickhouse.config import ClickHouseOptions
from backend.storage.clickhouse.engine import Connection, Embedded, Server
from backend.storage.clickhouse.reader import ClickHouseReader
from backend.storage.clickhouse.schema import Layout
from backend.storage.clickhouse.writer import ClickHouseWriter
from backend.storage.sql.sampling import SqlSamplingStore
from backend.storage.sql.schema import make_engine


class ClickHouseStorage:
    def __init__(self, options: ClickHouseOptions, where: str = "clickhouse") -> None:
        self._retention_ns = int(options.retention)
        self._layout = Layout(options.database, self._retention_ns // 1_000_000_000, options.cluster, options.tag_index)
        self._connection: Connection = Server(options.url, where) if options.url else Embedded(options.path, where)
        try:
            for statement in self._layout.statements():
                self._connection.command(statement)
        except StorageError:
            self._connection.close()
            raise
        self._sampling_url = options.sampling_url or f"sqlite:///{Path(options.path) / 'sampling.db'}"
        self._where = where
        self._writer = ClickHouseWriter(self._connection, self._layout)
        self._reader = ClickHouseReader(self._connection, self._layout)
        self._sampling: SqlSamplingStore | None = None
        self._sampling_engine: Engine | None = None

    def writer(self) -> ClickHouseWriter:
        return self._writer

    def reader(self) -> ClickHouseReader:
        return self._reader

    def dependency_reader(self) -> ClickHouseReader:
        return self._reader

    def sampling_store(self) -> SqlSamplingStore:
        if self._sampling is None:
            self._sampling_engine = make_engine(self._sampling_url, 2, f"{self._where}.sampling_url")
            self._sampling = SqlSamplingStore(self._sampling_engine)
        return self._sampling

    def purge_expired(self, now_ns: int) -> int:
        """What the TTL would drop, deleted now by the caller's clock (the TTL runs by the server's)."""
        if not self._retention_ns:
            return 0
        params = {"cutoff": now_ns - self._retention_ns}
        spans, trace_times = self._layout.table("spans"), self._layout.table("trace_times")
        expired = int(
            self._connection.arrow(f"SELECT count() AS expired FROM {spans} WHERE start_ns < {{cutoff:Int64}}", params)
            .column("expired")[0]
            .as_py()
        )
        if expired:
            self._connection.command(f"DELETE FROM {spans} WHERE start_ns < {{cutoff:Int64}}", params)
            self._connection.command(f"DELETE FROM {trace_times} WHERE last_ns < {{cutoff:Int64}}", params)
        return expired

    def disk_bytes(self) -> int:
        """Bytes on disk of the active parts of this storage's tables (merged-away parts wait a while to go)."""
        rows = self._connection.arrow(
            "SELECT sum(bytes_on_disk) AS bytes FROM system.parts WHERE active AND database = {database:String}",
            {"database": self._layout.database},
        )
        return int(rows.column("bytes")[0].as_py() or 0)

    def close(self) -> None:
        if self._sampling_engine is not None:
            self._sampling_engine.dispose()
        self._connection.close()
