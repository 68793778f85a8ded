"""The ``sql`` plug-in: spans in SQLite (the default, one file) or PostgreSQL, through SQLAlchemy.

Retention: ``purge_expired`` deletes spans that started before
``now - retention``, one service at a time so that each delete walks the
``(service_id, start_ns)`` index and holds the write lock briefly.  Services,
operations and processes stay: they are small, and keeping them means the
UI's service and operation lists survive quiet periods, as in Jaeger.  The
tag index's rows go too, in one pass over that narrow table (it is ordered
by tag hash, not time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from backend.core.binding import ConfigError, Duration
from backend.storage.api import StorageError
from backend.storage.factory import StoragePlugin
from backend.storage.sql.catalog import Catalog
from backend.storage.sql.reader import SqlReader
from backend.storage.sql.sampling import SqlSamplingStore
from backend.storage.sql.schema import Tables, make_engine
from backend.storage.sql.tag_index import TagIndex, TagIndexOptions
from backend.storage.sql.writer import SqlWriter

_HOUR_NS = 3_600_000_000_000
_PARAMS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_BACKENDS = ("sqlite", "postgresql")


@dataclass
class SqlOptions:
    url: str = "sqlite:///data/traces.db"
    retention: Duration = Duration(72 * _HOUR_NS)  # 0 keeps spans forever
    schema: str = ""  # PostgreSQL only: tables go in this schema, created if missing
    pool_size: int = 5
    index: TagIndexOptions = field(default_factory=TagIndexOptions)  # which tags searches find without a scan

    def __post_init__(self) -> None:
        if self.retention < 0:
            raise ValueError(f"retention must not be negative, got {self.retention}ns")
        if self.pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {self.pool_size}")


class SqlStorage:
    def __init__(self, options: SqlOptions, where: str = "sql") -> None:
        self._retention_ns = int(options.retention)
        self._engine = make_engine(options.url, options.pool_size, where)
        dialect = self._engine.dialect
        if dialect.name not in _BACKENDS or dialect.paramstyle not in _PARAMS:
            self._engine.dispose()
            raise ConfigError(f"{where}.url", f"unsupported database {dialect.name!r}; use SQLite or PostgreSQL")
        if options.schema and dialect.name != "postgresql":
            self._engine.dispose()
            raise ConfigError(f"{where}.schema", "a schema is only supported with PostgreSQL")
        self._tables = Tables(options.schema, dialect)
        tag_index = TagIndex(options.index, self._tables)
        try:
            self._tables.create(self._engine)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            shown = self._engine.url.render_as_string(hide_password=True)
            raise StorageError(f"cannot prepare the trace database {shown}: {exc}") from exc
        param = _PARAMS[dialect.paramstyle]
        catalog = Catalog(self._tables, param)
        self._writer = SqlWriter(self._engine, self._tables, catalog, param, tag_index)
        self._reader = SqlReader(self._engine, self._tables, catalog, tag_index)
        self._sampling: SqlSamplingStore | None = None

    def writer(self) -> SqlWriter:
        return self._writer

    def reader(self) -> SqlReader:
        return self._reader

    def dependency_reader(self) -> SqlReader:
        return self._reader

    def sampling_store(self) -> SqlSamplingStore:
        """Sampling tables beside the spans, on the same engine (created on first use)."""
        if self._sampling is None:
            self._sampling = SqlSamplingStore(self._engine, schema=self._tables.metadata.schema)
        return self._sampling

    def purge_expired(self, now_ns: int) -> int:
        if not self._retention_ns:
            return 0
        cutoff = now_ns - self._retention_ns
        spans, services = self._tables.spans, self._tables.services
        removed = 0
        try:
            with self._engine.connect() as connection:
                service_ids = connection.execute(services.select().with_only_columns(services.c.id)).scalars().all()
            for service_id in service_ids:
                with self._engine.begin() as connection:
                    result = connection.execute(
                        delete(spans).where(spans.c.service_id == service_id, spans.c.start_ns < cutoff)
                    )
                    removed += max(result.rowcount, 0)
            with self._engine.begin() as connection:
                connection.execute(delete(self._tables.span_tags).where(self._tables.span_tags.c.start_ns < cutoff))
        except SQLAlchemyError as exc:
            raise StorageError(f"purging spans older than the retention failed: {exc}") from exc
        return removed

    def close(self) -> None:
        self._engine.dispose()


PLUGIN = StoragePlugin(SqlOptions, SqlStorage)
