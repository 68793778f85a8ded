"""Tables and engine set-up of the ``sql`` plug-in (SQLite and PostgreSQL through SQLAlchemy).

One wide ``spans`` table carries what queries filter on, plus the span's own
OTLP bytes.  Names repeat across millions of spans, so the table stores small
integers instead: ``service_id`` and ``operation_id`` point into two small
tables that every process caches (see ``sql_catalog``).  Each distinct
resource + scope ("process") is stored once, keyed by its digest.

Two indexes only, because every index costs insert speed:
``(trace_id, span_id)`` unique, which makes writes idempotent and serves
trace lookup, and ``(service_id, start_ns)``, which serves search, dependency
and retention queries (those that name no service list every service id).

``span_tag_index`` and ``span_tag_keys`` are the tag index (see
``tag_index``): clustered by (hash, service, start), without a rowid on
SQLite, so its primary key is the table and costs no second index.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.schema import CreateSchema, DropTable

from backend.core.binding import ConfigError

# The tag index before its rows held their service (no service_id column): dropped, its keys with it, so
# the new index starts with every key's ``since`` at the first write and older windows are scanned.
_OBSOLETE_TABLES = ("span_tags", "tag_index_keys")


class Tables:
    """The plug-in's tables, placed in ``schema`` (PostgreSQL) or the default one."""

    def __init__(self, schema: str | None, dialect: Dialect) -> None:
        self._preparer = dialect.identifier_preparer
        self.metadata = MetaData(schema=schema or None)
        self.services = Table(
            "services",
            self.metadata,
            Column("id", Integer, primary_key=True),
            Column("name", String, nullable=False, unique=True),
        )
        self.operations = Table(
            "operations",
            self.metadata,
            Column("id", Integer, primary_key=True),
            Column("service_id", Integer, nullable=False),
            Column("name", String, nullable=False),
            Column("kind", SmallInteger, nullable=False),
            UniqueConstraint("service_id", "name", "kind", name="operations_key"),
        )
        self.processes = Table(
            "processes",
            self.metadata,
            Column("id", LargeBinary, primary_key=True),
            Column("blob", LargeBinary, nullable=False),
        )
        self.spans = Table(
            "spans",
            self.metadata,
            Column("trace_id", LargeBinary, nullable=False),
            Column("span_id", LargeBinary, nullable=False),
            Column("parent_span_id", LargeBinary, nullable=False),
            Column("service_id", Integer, nullable=False),
            Column("operation_id", Integer, nullable=False),
            Column("start_ns", BigInteger, nullable=False),
            Column("duration_ns", BigInteger, nullable=False),
            Column("status_code", SmallInteger, nullable=False),
            Column("process_id", LargeBinary, nullable=False),
            Column("payload", LargeBinary, nullable=False),
            Index("spans_trace_span", "trace_id", "span_id", unique=True),
            Index("spans_service_start", "service_id", "start_ns"),
        )
        self.span_tags = Table(
            "span_tag_index",
            self.metadata,
            Column("hash", BigInteger, nullable=False),
            Column("service_id", Integer, nullable=False),
            Column("start_ns", BigInteger, nullable=False),
            Column("trace_id", LargeBinary, nullable=False),
            Column("span_id", LargeBinary, nullable=False),
            PrimaryKeyConstraint("hash", "service_id", "start_ns", "trace_id", "span_id", name="span_tag_index_key"),
            sqlite_with_rowid=False,
        )
        self.tag_index_keys = Table(
            "span_tag_keys",
            self.metadata,
            Column("key", String, primary_key=True),
            Column("since_ns", BigInteger, nullable=False),  # spans starting from here on are all indexed
        )

    def create(self, engine: Engine) -> None:
        """Create what is missing (schema included); existing tables are left as they are."""
        with engine.begin() as connection:
            if self.metadata.schema:
                connection.execute(CreateSchema(self.metadata.schema, if_not_exists=True))
            self.metadata.create_all(connection)
            for obsolete in _OBSOLETE_TABLES:
                connection.execute(DropTable(Table(obsolete, MetaData(schema=self.metadata.schema)), if_exists=True))

    def quoted(self, table: Table) -> str:
        """The table's name (schema included) quoted for raw SQL."""
        return self._preparer.format_table(table)


def make_engine(url: str, pool_size: int, where: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and NORMAL sync, and its folder is created.

    NORMAL, not FULL: a commit survives the process being killed but may be rolled back by a power cut
    until the WAL is synced, which ``SqlWriter.sync`` does once before the persistent queue forgets a round
    of delivered batches (``wal_sync``, docs/durability.md).  FULL (one fdatasync a commit, inside the write
    transaction) cost a sixth of the ingest rate at 60 k spans/s offered (hotrod bench, 49.9 k against 60.0 k
    accepted).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"{where}.url", f"not a database URL: {url!r}") from exc
    except ValueError as exc:  # SQLAlchemy's int() of the port; the URL itself is not shown, it may hold a password
        port = urlsplit(url).netloc.rpartition("@")[2].rpartition(":")[2]
        raise ConfigError(
            f"{where}.url",
            f"the port {port!r} is not a number; expected dialect+driver://user@host:PORT/database"
            " with PORT from 1 to 65535",
        ) from exc
    is_sqlite = parsed.get_backend_name() == "sqlite"
    options: dict[str, Any] = {"pool_pre_ping": not is_sqlite}
    if is_sqlite:
        bind_bytes_as_they_are()
        _prepare_sqlite_file(parsed, where)
        options["connect_args"] = {"check_same_thread": False}
    options["pool_size"] = pool_size
    try:
        engine = create_engine(parsed, **options)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"{where}.url", f"cannot use {url!r}: {exc}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def bind_bytes_as_they_are() -> None:
    """Python's sqlite3 binds ``bytes`` after an adapter look-up that finds nothing (it skips the look-up for int,
    float, str and bytearray only): a tuple built, a dict missed and two attribute look-ups failed per value.  Half
    of a span row's values are bytes (ids, process, payload), and that binding runs under the GIL, beside the
    receiver's decoding.  An identity adapter for ``bytes`` (``bytes(b) is b``) is found at the first step and
    binds the same blob: measured ~1.1 against ~1.7-3.1 us per 10-column row.  Process-wide, as sqlite3's
    adapters are, and the same blobs for every other user of sqlite3 in the process.
    """
    sqlite3.register_adapter(bytes, bytes)


def _prepare_sqlite_file(url: URL, where: str) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ConfigError(
            f"{where}.url", "an in-memory SQLite database is not shared between threads; use the memory kind"
        )
    Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    # Checkpoint every ~40 MB of WAL rather than 4 MB: index pages rewritten by many batches are
    # copied back once, which measured ~15% faster inserts at a million spans.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()
