"""Customers in a real SQL database, with HotROD's two customer-side bugs made real.

The slow query is slow inside the database (``pg_sleep`` on PostgreSQL, a registered sleep
function on SQLite), so the SQL client span itself shows the 300 ms. The connection bug is a
process-wide mutex around every query (``TracedLock``), which the ``db_conn_mutex_disabled`` fix
removes; the connection pool itself is sized by ``--db-pool-size``.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass

import sqlalchemy
from opentelemetry import trace
from sqlalchemy import Column, Integer, MetaData, String, Table, event, text

from hotrod import delay
from hotrod.customer.tracedlock import TracedLock
from hotrod.knobs import Knobs

log = logging.getLogger(__name__)

# HotROD's customers, with HotROD's "x,y" locations on its 1000 x 1000 city grid
SEED = (
    (123, "Rachel's Floral Designs", "115,277"),
    (567, "Amazing Coffee Roasters", "211,653"),
    (392, "Trom Chocolatier", "577,322"),
    (731, "Japanese Desserts", "728,326"),
)
_SLEEP_FUNCTIONS = {"sqlite": "hotrod_sleep", "postgresql": "pg_sleep", "mysql": "sleep", "mariadb": "sleep"}

metadata = MetaData()
customers = Table(
    "customer",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("location", String(32), nullable=False),
)


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    location: str


def _sqlite_sleep(seconds: float) -> int:
    time.sleep(max(0.0, float(seconds)))
    return 0


class CustomerDatabase:
    def __init__(self, url: str, pool_size: int, knobs: Knobs, tracer: trace.Tracer, delay_scale: float = 1.0) -> None:
        self._knobs = knobs
        self._delay_scale = delay_scale
        is_sqlite = url.startswith("sqlite")
        self.engine = sqlalchemy.create_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            pool_pre_ping=not is_sqlite,
            connect_args={"check_same_thread": False, "timeout": 30} if is_sqlite else {},
        )
        if is_sqlite:
            event.listen(
                self.engine, "connect", lambda conn, _record: conn.create_function("hotrod_sleep", 1, _sqlite_sleep)
            )
        self._sleep_function = _SLEEP_FUNCTIONS.get(self.engine.dialect.name)
        self._lock = TracedLock(tracer)
        self._seed()

    def _seed(self) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            present = {row[0] for row in conn.execute(sqlalchemy.select(customers.c.id))}
            missing = [{"id": i, "name": n, "location": loc} for i, n, loc in SEED if i not in present]
            if missing:
                conn.execute(customers.insert(), missing)

    def get(self, customer_id: int) -> Customer | None:
        """Look a customer up; the query takes ``db_query_delay_ms`` (± 10 %) like HotROD's MySQL did."""
        log.info("Loading customer", extra={"customer_id": customer_id})
        knobs = self._knobs.values
        seconds = delay.sample(knobs.db_query_delay_ms / 1000.0, knobs.db_query_delay_ms / 10_000.0, self._delay_scale)
        guard = nullcontext() if knobs.db_conn_mutex_disabled else self._lock.hold()
        with guard, self.engine.connect() as conn:
            row = conn.execute(self._query(seconds), {"id": customer_id, "delay": seconds}).first()
        if row is None or row[0] is None:
            return None
        return Customer(int(row[0]), row[1], row[2])

    def _query(self, seconds: float) -> sqlalchemy.TextClause:
        if self._sleep_function is None:  # a database we cannot ask to wait: wait beside it
            time.sleep(seconds)
            return text("SELECT id, name, location FROM customer WHERE id = :id")
        return text(
            f"SELECT c.id, c.name, c.location FROM (SELECT {self._sleep_function}(:delay) AS waited) AS d "
            "LEFT JOIN customer AS c ON c.id = :id"
        )

    def close(self) -> None:
        self.engine.dispose()
