"""The ``sql`` plug-in's write path: one transaction and one ``executemany`` per batch.

This is the ingest benchmark's hot path, so it goes to the driver directly
(``exec_driver_sql``) with plain tuples, and touches the services,
operations and processes tables only for names and processes it has not
seen before.  ``ON CONFLICT DO NOTHING`` on the unique (trace_id, span_id)
index makes a re-delivered span a no-op, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from backend.model import SpanBatch
from backend.storage.api import StorageError
from backend.storage.sql_catalog import Catalog
from backend.storage.sql_schema import Tables

SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "service_id",
    "operation_id",
    "start_ns",
    "duration_ns",
    "status_code",
    "process_id",
    "payload",
)
_KNOWN_PROCESSES_LIMIT = 100_000
_STAGING = "spans_staging"
_COPY_TYPES = ["bytea", "bytea", "bytea", "int4", "int4", "int8", "int8", "int2", "bytea", "bytea"]


class SqlWriter:
    def __init__(self, engine: Engine, tables: Tables, catalog: Catalog, param: str) -> None:
        self._engine = engine
        self._catalog = catalog
        values = ", ".join([param] * len(SPAN_COLUMNS))
        self._insert_spans = (
            f"INSERT INTO {tables.quoted(tables.spans)} ({', '.join(SPAN_COLUMNS)}) VALUES ({values}) "
            "ON CONFLICT DO NOTHING"
        )
        self._insert_process = (
            f"INSERT INTO {tables.quoted(tables.processes)} (id, blob) VALUES ({param}, {param}) ON CONFLICT DO NOTHING"
        )
        self._known_processes: set[bytes] = set()
        self._known_lock = threading.Lock()
        self._driver_error = engine.dialect.loaded_dbapi.Error
        self._insert_rows = self._executemany
        if engine.dialect.name == "postgresql":
            self._insert_rows = self._copy
            spans = tables.quoted(tables.spans)
            self._create_staging = (
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE {spans} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            self._copy_staging = f"COPY {_STAGING} ({', '.join(SPAN_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            self._merge_staging = f"INSERT INTO {spans} SELECT * FROM {_STAGING} ON CONFLICT DO NOTHING"

    def write(self, batch: SpanBatch) -> None:
        spans = batch.spans
        if not spans:
            return
        new_processes = [(pid, blob) for pid, blob in batch.processes.items() if pid not in self._known_processes]
        try:
            with self._engine.begin() as connection:
                ids, fresh = self._catalog.resolve(connection, {(r.service, r.name, r.kind) for r in spans})
                if new_processes:
                    connection.exec_driver_sql(self._insert_process, new_processes)
                rows = []
                append = rows.append
                for r in spans:
                    service_id, operation_id = ids[r.service, r.name, r.kind]
                    append(
                        (
                            r.trace_id,
                            r.span_id,
                            r.parent_span_id,
                            service_id,
                            operation_id,
                            r.start_ns,
                            r.duration_ns,
                            r.status_code,
                            r.process_id,
                            r.payload,
                        )
                    )
                self._insert_rows(connection, rows)
        except (SQLAlchemyError, self._driver_error) as exc:
            raise StorageError(f"writing {len(spans)} spans failed: {exc}") from exc
        self._catalog.learn(fresh)
        if new_processes:
            with self._known_lock:
                if len(self._known_processes) > _KNOWN_PROCESSES_LIMIT:
                    self._known_processes.clear()
                self._known_processes.update(pid for pid, _ in new_processes)

    def _executemany(self, connection: Connection, rows: list[tuple]) -> None:
        connection.exec_driver_sql(self._insert_spans, rows)

    def _copy(self, connection: Connection, rows: list[tuple]) -> None:
        """PostgreSQL: binary COPY into a per-connection temporary table, then one idempotent INSERT.

        Measured ~1.6x the rows/s of a pipelined executemany (psycopg 3) for 500-span batches.
        """
        driver_connection = connection.connection.dbapi_connection
        with driver_connection.cursor() as cursor:
            if not connection.info.get(_STAGING):
                cursor.execute(self._create_staging)
                connection.info[_STAGING] = True
            with cursor.copy(self._copy_staging) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            cursor.execute(self._merge_staging)
