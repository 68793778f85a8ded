"""Service and operation ids of the ``sql`` plug-in, cached in-process.

Every span row refers to its service and operation by small integer ids.
The hot write path must not touch these tables for names it has seen, and
reads must turn ids back into names without a join, so both directions
live in memory.  The tables only grow (retention keeps them), so a cached
entry never goes stale; a miss is resolved against the database, which may
have learnt new names from another process.

Thread-safe: many readers and a writer share one catalog.  The writer
learns ids only after its transaction commits, so a rolled-back batch
never leaves ids in the cache that the database does not have.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import Connection, select

from backend.storage.sql.schema import Tables

OperationKey = tuple[str, str, int]  # (service, operation name, span kind)


class Catalog:
    def __init__(self, tables: Tables, param: str) -> None:
        self._tables = tables
        self._lock = threading.Lock()
        self._service_ids: dict[str, int] = {}
        self._operation_ids: dict[OperationKey, tuple[int, int]] = {}  # key -> (service id, operation id)
        self._operations: dict[int, OperationKey] = {}
        services, operations = tables.services, tables.operations
        self._insert_service = f"INSERT INTO {tables.quoted(services)} (name) VALUES ({param}) ON CONFLICT DO NOTHING"
        self._select_service = f"SELECT id FROM {tables.quoted(services)} WHERE name = {param}"
        self._insert_operation = (
            f"INSERT INTO {tables.quoted(operations)} (service_id, name, kind) VALUES ({param}, {param}, {param}) "
            "ON CONFLICT DO NOTHING"
        )
        self._select_operation = (
            f"SELECT id FROM {tables.quoted(operations)} "
            f"WHERE service_id = {param} AND name = {param} AND kind = {param}"
        )

    # Writer side

    def resolve(
        self, connection: Connection, keys: Iterable[OperationKey]
    ) -> tuple[dict[OperationKey, tuple[int, int]], dict[OperationKey, tuple[int, int]]]:
        """Ids for ``keys``, inserting unknown names in ``connection``'s transaction.

        Returns (all ids, the newly resolved ones); pass the latter to
        ``learn`` once the transaction has committed.
        """
        known = self._operation_ids
        ids: dict[OperationKey, tuple[int, int]] = {}
        fresh: dict[OperationKey, tuple[int, int]] = {}
        for key in keys:
            found = known.get(key)
            if found is None:
                found = fresh[key] = self._insert(connection, key)
            ids[key] = found
        return ids, fresh

    def _insert(self, connection: Connection, key: OperationKey) -> tuple[int, int]:
        service, name, kind = key
        service_id = self._service_ids.get(service)
        if service_id is None:
            connection.exec_driver_sql(self._insert_service, (service,))
            service_id = connection.exec_driver_sql(self._select_service, (service,)).scalar_one()
        connection.exec_driver_sql(self._insert_operation, (service_id, name, kind))
        operation_id = connection.exec_driver_sql(self._select_operation, (service_id, name, kind)).scalar_one()
        return service_id, operation_id

    def learn(self, fresh: dict[OperationKey, tuple[int, int]]) -> None:
        with self._lock:
            for key, (service_id, operation_id) in fresh.items():
                self._service_ids[key[0]] = service_id
                self._operation_ids[key] = (service_id, operation_id)
                self._operations[operation_id] = key

    # Reader side

    def operation(self, connection: Connection, operation_id: int) -> OperationKey:
        """(service, name, kind) of an operation id; a miss reloads the tables."""
        key = self._operations.get(operation_id)
        if key is None:
            self.refresh(connection)
            key = self._operations[operation_id]
        return key

    def service_id(self, connection: Connection, service: str) -> int | None:
        found = self._service_ids.get(service)
        if found is None:
            self.refresh(connection)
            found = self._service_ids.get(service)
        return found

    def known_operations(self) -> dict[int, OperationKey]:
        """Every operation seen so far by id (call ``refresh`` first for the database's latest)."""
        with self._lock:
            return dict(self._operations)

    def services(self, connection: Connection) -> dict[str, int]:
        self.refresh(connection)
        with self._lock:
            return dict(self._service_ids)

    def operations_of(self, connection: Connection, service: str) -> list[tuple[str, int]]:
        """(name, kind) of every operation of ``service``."""
        self.refresh(connection)
        with self._lock:
            return [(name, kind) for (svc, name, kind) in self._operation_ids if svc == service]

    def refresh(self, connection: Connection) -> None:
        """Load every service and operation: both tables are small (names, not spans)."""
        services, operations = self._tables.services, self._tables.operations
        # Operations first: a service is committed before its operations, so each one read has its name.
        rows = connection.execute(
            select(operations.c.id, operations.c.service_id, operations.c.name, operations.c.kind)
        ).all()
        names = dict(connection.execute(select(services.c.id, services.c.name)).all())
        with self._lock:
            for service_id, name in names.items():
                self._service_ids[name] = service_id
            for operation_id, service_id, name, kind in rows:
                key = (names[service_id], name, kind)
                self._operation_ids[key] = (service_id, operation_id)
                self._operations[operation_id] = key
