"""The two ways to reach ClickHouse, behind one small interface: chDB in this process, or a server by URL.

Both run the same SQL (query parameters in ClickHouse's ``{name:Type}``
form) and hand rows back as Arrow tables, and both take inserts as Arrow
tables, so the writer and reader never know which one they have.

chDB runs one ClickHouse engine per process: storages on the same data
folder share it (each in its own database, say), and opening a second
folder while one is open is refused with a clear error.  Its connection is not safe to use from several threads
at once, so every statement takes a lock; the engine runs each statement on
its own threads, with the GIL released.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import pyarrow as pa

from backend.core.binding import ConfigError
from backend.storage.api import StorageError
from backend.storage.clickhouse.config import INSTALL_HINT

# Strings come back as bytes (ids and payloads are binary); ClickHouse's own setting, honoured by both.
_BINARY = {"output_format_arrow_string_as_string": 0}
# A ReplacingMergeTree folds repeated rows when merging, and every read folds what is not merged yet, so an
# insert need not fold its own rows first (measured ~1-3 us a span less for the engine's insert).
_INSERT = {"optimize_on_insert": 0}
T = TypeVar("T")


class Connection(Protocol):
    def command(self, sql: str, params: dict[str, Any] | None = None) -> None: ...

    def arrow(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, int] | None = None) -> pa.Table:
        """Rows as Arrow, strings as bytes; ``settings`` are ClickHouse settings for this statement alone."""
        ...

    def insert(self, table: str, data: pa.Table) -> None: ...

    def close(self) -> None: ...


class Embedded:
    """chDB with its data in ``path``; storages on the same folder share one engine (see ``close``)."""

    _shared: dict[str, tuple[Any, threading.Lock, int]] = {}  # folder -> (connection, lock, users)
    _shared_lock = threading.Lock()

    def __init__(self, path: str, where: str) -> None:
        try:
            import chdb  # noqa: PLC0415 - optional: imported only when this kind is chosen
        except ImportError as exc:
            raise ConfigError(where, INSTALL_HINT) from exc
        self._folder = str(Path(path).expanduser().resolve())
        with Embedded._shared_lock:
            shared = Embedded._shared.get(self._folder)
            if shared is None:
                if Embedded._shared:
                    (other,) = Embedded._shared
                    raise StorageError(f"chDB already has {other} open in this process; one data folder per process")
                Path(self._folder).mkdir(parents=True, exist_ok=True)
                try:
                    connect = cast(Callable[[str], Any], chdb.connect)  # chDB has no type hints
                    shared = (connect(self._folder), threading.Lock(), 0)
                except Exception as exc:  # noqa: BLE001 - chDB raises plain RuntimeErrors
                    raise StorageError(f"cannot open the embedded ClickHouse in {self._folder}: {exc}") from exc
            self._connection, self._lock, users = shared
            Embedded._shared[self._folder] = (self._connection, self._lock, users + 1)
        self._inserts = Path(self._folder) / "insert.arrows"
        self._closed = False

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self._run(sql, "CSV", params)

    def arrow(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, int] | None = None) -> pa.Table:
        return self._run(f"{sql} SETTINGS {_settings({**_BINARY, **(settings or {})})}", "ArrowTable", params)

    def insert(self, table: str, data: pa.Table) -> None:
        """As an Arrow IPC stream in a file of the data folder, read by ``INSERT ... FROM INFILE``.

        Not chDB's streaming inserter (``send_insert``), though it takes the same stream for a little less
        CPU: when the engine cannot write the part (a table folder that refuses writes, say) its ``finish``
        reports the rows written and raises nothing, so the exporter would delete a batch that was never
        stored (chDB 4.4; tests/faults/test_storage_outage.py).  A statement raises.  Nor Python()'s table
        function: it looks the table up among Python objects, which costs more than the insert itself in a
        large process.  The file is written and removed under the engine's lock, so one name serves.
        """
        sql = (
            f"INSERT INTO {table} ({', '.join(data.column_names)}) FROM INFILE {_quoted(str(self._inserts))}"
            f" SETTINGS {_settings(_INSERT)} FORMAT ArrowStream"
        )
        with self._lock:
            if self._closed:
                raise StorageError("the embedded ClickHouse is closed")
            try:
                with pa.OSFile(str(self._inserts), "wb") as sink, pa.ipc.new_stream(sink, data.schema) as stream:
                    stream.write_table(data)
                self._connection.query(sql, "CSV")
            except Exception as exc:  # noqa: BLE001 - chDB raises its own error types for every failure
                raise StorageError(f"ClickHouse: {exc}") from exc
            finally:
                self._inserts.unlink(missing_ok=True)

    def _run(self, sql: str, output: str, params: dict[str, Any] | None) -> Any:
        with self._lock:
            if self._closed:
                raise StorageError("the embedded ClickHouse is closed")
            try:
                return self._connection.query(sql, output, params=params)
            except Exception as exc:  # noqa: BLE001 - chDB raises its own error types for every failure
                raise StorageError(f"ClickHouse: {exc}") from exc

    def close(self) -> None:
        """The engine closes with the last storage that uses it."""
        with Embedded._shared_lock, self._lock:
            if self._closed:
                return
            self._closed = True
            connection, lock, users = Embedded._shared[self._folder]
            if users > 1:
                Embedded._shared[self._folder] = (connection, lock, users - 1)
                return
            del Embedded._shared[self._folder]
            connection.close()


class Server:
    """A ClickHouse server over HTTP (``clickhouse-connect``), e.g. ``http://default:secret@db:8123``."""

    def __init__(self, url: str, where: str) -> None:
        try:
            import clickhouse_connect  # noqa: PLC0415 - optional
        except ImportError as exc:
            raise ConfigError(where, INSTALL_HINT) from exc
        from clickhouse_connect.driver.exceptions import OperationalError  # noqa: PLC0415 - optional

        try:
            self._client = clickhouse_connect.get_client(dsn=url)
        except OperationalError as exc:  # the driver's word for "no connection": refused, timed out, no such host
            raise StorageError(f"cannot reach ClickHouse at {_without_password(url)}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - something answered: a server too old for the driver, or not ClickHouse
            raise StorageError(
                f"{_without_password(url)} answered, but not as a ClickHouse server this plug-in can use "
                f"(it needs a recent release, see docs/clickhouse.md): {exc}"
            ) from exc

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self._guard(lambda: self._client.command(sql, parameters=params))

    def arrow(self, sql: str, params: dict[str, Any] | None = None, settings: dict[str, int] | None = None) -> pa.Table:
        return self._guard(
            lambda: self._client.query_arrow(
                sql, parameters=params, settings={**_BINARY, **(settings or {})}, use_strings=False
            )
        )

    def insert(self, table: str, data: pa.Table) -> None:
        self._guard(lambda: self._client.insert_arrow(table, data, settings=_INSERT))

    def _guard(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - the driver's errors have no common base
            raise StorageError(f"ClickHouse: {exc}") from exc

    def close(self) -> None:
        self._client.close()


def _quoted(text: str) -> str:
    """A ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _settings(settings: dict[str, int]) -> str:
    return ", ".join(f"{name} = {value}" for name, value in settings.items())


def _without_password(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':')[0]}:***@{tail}"
