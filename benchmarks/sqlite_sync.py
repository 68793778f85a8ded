"""What making SQLite's commits durable before the queue forgets them costs, each way of doing it, in one run.

Usage (from the repository root): .venv/bin/python -m benchmarks.sqlite_sync [--deliveries 20] [--rounds 3]

The work is the storage exporter's: deliveries of 8,192 synthetic spans (the sending queue's
``batch.max_size``), each written by the sql plug-in's writer to a fresh SQLite file (WAL,
``synchronous=NORMAL``), then made durable before the next one.  The ways:

- ``none``: no sync (the code before: a power cut may roll back the last commits);
- ``wal fdatasync``: ``SqlWriter.sync``, one fdatasync of the ``-wal`` file (what the exporter does,
  there on a thread of its own while the next delivery is written; here inline, so its whole wall
  time counts);
- ``checkpoint``: ``PRAGMA wal_checkpoint(PASSIVE)`` from a second connection, which syncs the WAL,
  copies its pages into the database file and syncs that (and may stop short while readers hold
  old pages, leaving the newest commits unsynced: not a correct way, measured for its cost).

Rounds alternate between the ways so that drift on the machine hits all alike; printed per way:
the best round's wall and CPU microseconds per span, and the ratio to ``none``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from backend.spans.model import SpanBatch
from backend.storage.factory import create_storage
from backend.storage.sql.writer import SqlWriter
from benchmarks.storage_load import Plan

DELIVERY_SPANS = 8192
BASE_NS = 1_700_000_000_000_000_000


def no_sync(_writer: SqlWriter, _database: Path) -> None:
    """Nothing: the commit stays in the OS's cache until it writes it back."""


def wal_fdatasync(writer: SqlWriter, _database: Path) -> None:
    writer.sync()


def checkpoint(_writer: SqlWriter, database: Path) -> None:
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()


WAYS: dict[str, Callable[[SqlWriter, Path], None]] = {
    "none": no_sync,
    "wal fdatasync": wal_fdatasync,
    "checkpoint": checkpoint,
}


def one_round(deliveries: list[SpanBatch], make_durable: Callable[[SqlWriter, Path], None]) -> tuple[float, float]:
    """(wall, CPU) microseconds per span for every delivery written and made durable."""
    folder = Path(tempfile.mkdtemp(prefix="sqlite-sync-"))
    try:
        database = folder / "traces.db"
        storage = create_storage("sql", {"url": f"sqlite:///{database}", "retention": 0}, "bench")
        writer = storage.writer()
        assert isinstance(writer, SqlWriter)
        wall, cpu = time.perf_counter(), time.process_time()
        for delivery in deliveries:
            writer.write(delivery)
            make_durable(writer, database)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        storage.close()
    finally:
        shutil.rmtree(folder)
    spans = sum(len(delivery) for delivery in deliveries)
    return wall / spans * 1e6, cpu / spans * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    plan = Plan(spans=DELIVERY_SPANS * args.deliveries, batch=DELIVERY_SPANS, base_ns=BASE_NS)
    deliveries = list(plan.batches())
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, way in WAYS.items():
            wall, cpu = one_round(deliveries, way)
            previous = best.get(name)
            best[name] = (min(wall, previous[0]), min(cpu, previous[1])) if previous else (wall, cpu)
    base_wall, base_cpu = best["none"]
    print(f"{len(deliveries)} deliveries of {DELIVERY_SPANS} spans, best of {args.rounds} rounds")
    for name, (wall, cpu) in best.items():
        print(
            f"{name:>14}: wall {wall:6.2f} us/span ({wall / base_wall:4.2f}x), "
            f"CPU {cpu:6.2f} us/span ({cpu / base_cpu:4.2f}x)"
        )


if __name__ == "__main__":
    main()
