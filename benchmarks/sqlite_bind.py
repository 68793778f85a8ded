"""What binding a span row's bytes costs SQLite's driver, with and without the sql plug-in's identity adapter.

Usage (from the repository root): .venv/bin/python -m benchmarks.sqlite_bind [--rows 2048] [--repeats 30]

Python's sqlite3 looks an adapter up for every ``bytes`` value it binds and finds none (it skips the look-up for
int, float, str and bytearray only); ``backend.storage.sql.schema.bind_bytes_as_they_are`` registers ``bytes``
itself, so the look-up ends at its first step with the same object.  Rows of the spans table's shape (ids,
process and a 300-byte payload as bytes, five ints) go into an in-memory table as the writer sends them
(multi-row INSERTs of 512 rows), the two ways alternately in one run; printed: CPU us per row, best of the
repeats, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time

from backend.storage.sql.schema import bind_bytes_as_they_are

_KEY = (bytes, sqlite3.PrepareProtocol)
_ROWS_PER_STATEMENT = 512


def rows(count: int) -> list[tuple[object, ...]]:
    return [
        (os.urandom(16), os.urandom(8), os.urandom(8), 1, 7, 1_700_000_000_000_000_000 + n, 2_500_000, 0,
         os.urandom(8), os.urandom(300))
        for n in range(count)
    ]  # fmt: skip


def us_per_row(connection: sqlite3.Connection, flat: list[object], count: int, repeats: int) -> float:
    statement = "INSERT INTO spans VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * _ROWS_PER_STATEMENT)
    width = 10 * _ROWS_PER_STATEMENT
    best = float("inf")
    for _ in range(repeats):
        connection.execute("DELETE FROM spans")
        started = time.process_time()
        for start in range(0, len(flat), width):
            connection.execute(statement, flat[start : start + width])
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2048, help="rows per repeat (a multiple of 512)")
    parser.add_argument("--repeats", type=int, default=30)
    options = parser.parse_args()
    count = options.rows - options.rows % _ROWS_PER_STATEMENT or _ROWS_PER_STATEMENT
    flat = [value for row in rows(count) for value in row]
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE spans (a BLOB, b BLOB, c BLOB, d INT, e INT, f INT, g INT, h INT, i BLOB, j BLOB)")
    results: dict[str, list[float]] = {"look-up finds nothing": [], "identity adapter": []}
    for _ in range(3):  # alternately, so that other load on the machine weighs on both alike
        sqlite3.adapters.pop(_KEY, None)
        results["look-up finds nothing"].append(us_per_row(connection, flat, count, options.repeats))
        bind_bytes_as_they_are()
        results["identity adapter"].append(us_per_row(connection, flat, count, options.repeats))
    print(f"{count} rows of 10 values (5 bytes), {_ROWS_PER_STATEMENT} rows per INSERT; load {os.getloadavg()[0]:.1f}")
    best = {name: min(values) for name, values in results.items()}
    for name, value in best.items():
        print(f"  {name:<24}{value:>8.2f} CPU us/row")
    print(f"  identity adapter / look-up: {best['identity adapter'] / best['look-up finds nothing']:.2f}x")


if __name__ == "__main__":
    main()
