"""The sampling store in SQL (SQLite or PostgreSQL): shared by every collector that uses the same database.

Three tables of its own, beside the span tables: throughput rows per
collector and interval, probability snapshots written by the leader (JSON
text: they are only ever read whole), and the leader lease.  Taking the lease
is one upsert whose update only applies when the lease is free, expired or
already ours, so two collectors can never both believe they hold it.
"""

from __future__ import annotations

import json

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    or_,
    select,
)

from backend.storage.sampling_store import ServiceOperationValues, Throughput
from backend.storage.sql.upsert import upsert_for


def _tables(schema: str | None) -> tuple[MetaData, Table, Table, Table]:
    metadata = MetaData(schema=schema)
    throughput = Table(
        "sampling_throughput",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at_ns", BigInteger, nullable=False, index=True),
        Column("service", String(512), nullable=False),
        Column("operation", String(1024), nullable=False),
        Column("count", BigInteger, nullable=False),
        Column("probabilities", Text, nullable=False),
        Column("requests", Float, nullable=False),
    )
    probabilities = Table(
        "sampling_probabilities",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at_ns", BigInteger, nullable=False, index=True),
        Column("hostname", String(255), nullable=False),
        Column("probabilities", Text, nullable=False),
        Column("qps", Text, nullable=False),
    )
    leases = Table(
        "sampling_leases",
        metadata,
        Column("name", String(255), primary_key=True),
        Column("holder", String(255), nullable=False),
        Column("expires_ns", BigInteger, nullable=False),
    )
    return metadata, throughput, probabilities, leases


class SqlSamplingStore:
    """``engine`` is shared with (and disposed by) its owner; given a URL, the store owns its engine."""

    def __init__(self, engine: Engine | str, schema: str | None = None) -> None:
        self._owns_engine = isinstance(engine, str)
        self._engine = create_engine(engine) if isinstance(engine, str) else engine
        self._upsert = upsert_for(self._engine.dialect.name, "sampling store")
        metadata, self._throughput, self._probabilities, self._leases = _tables(schema)
        metadata.create_all(self._engine, checkfirst=True)

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    def insert_throughput(self, throughput: list[Throughput], at_ns: int) -> None:
        if not throughput:
            return
        rows = [
            {
                "at_ns": at_ns,
                "service": t.service,
                "operation": t.operation,
                "count": t.count,
                "probabilities": json.dumps(sorted(t.probabilities)),
                "requests": t.requests,
            }
            for t in throughput
        ]
        with self._engine.begin() as connection:
            connection.execute(insert(self._throughput), rows)

    def get_throughput(self, start_ns: int, end_ns: int) -> list[Throughput]:
        table = self._throughput
        columns = (table.c.service, table.c.operation, table.c.count, table.c.probabilities, table.c.requests)
        query = select(*columns).where(table.c.at_ns >= start_ns, table.c.at_ns < end_ns)
        with self._engine.connect() as connection:
            return [
                Throughput(service, operation, count, set(json.loads(probabilities)), requests)
                for service, operation, count, probabilities, requests in connection.execute(query)
            ]

    def insert_probabilities_and_qps(
        self, hostname: str, probabilities: ServiceOperationValues, qps: ServiceOperationValues, at_ns: int
    ) -> None:
        row = {
            "at_ns": at_ns,
            "hostname": hostname,
            "probabilities": json.dumps(probabilities),
            "qps": json.dumps(qps),
        }
        with self._engine.begin() as connection:
            connection.execute(insert(self._probabilities), row)

    def get_latest_probabilities(self) -> ServiceOperationValues:
        table = self._probabilities
        query = select(table.c.probabilities).order_by(table.c.at_ns.desc(), table.c.id.desc()).limit(1)
        with self._engine.connect() as connection:
            text = connection.execute(query).scalar()
        return json.loads(text) if text else {}

    def acquire_lease(self, name: str, holder: str, ttl_ns: int, now_ns: int) -> bool:
        table = self._leases
        statement = self._upsert(table).values(name=name, holder=holder, expires_ns=now_ns + ttl_ns)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.name],
            set_={"holder": statement.excluded.holder, "expires_ns": statement.excluded.expires_ns},
            where=or_(table.c.holder == statement.excluded.holder, table.c.expires_ns <= now_ns),
        )
        with self._engine.begin() as connection:
            connection.execute(statement)
            owner = connection.execute(select(table.c.holder).where(table.c.name == name)).scalar()
        return owner == holder

    def forfeit_lease(self, name: str, holder: str) -> bool:
        table = self._leases
        with self._engine.begin() as connection:
            result = connection.execute(delete(table).where(table.c.name == name, table.c.holder == holder))
        return result.rowcount > 0

    def purge(self, before_ns: int) -> None:
        probabilities = self._probabilities
        latest = select(func.max(probabilities.c.id)).scalar_subquery()
        with self._engine.begin() as connection:
            connection.execute(delete(self._throughput).where(self._throughput.c.at_ns < before_ns))
            connection.execute(
                delete(probabilities).where(probabilities.c.at_ns < before_ns, probabilities.c.id != latest)
            )
