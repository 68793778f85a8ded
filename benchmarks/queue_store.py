"""Why the persistent sending queue is a segment log and not SQLite: both stores, the same work, one run.

Usage (from the repository root): .venv/bin/python -m benchmarks.queue_store [--batches 300] [--rounds 3]

The work is the queue's: append a batch as the exporter stores it (190 KB: one 500-span OTLP
request, ~380 B a span), synced before the append returns (``fsync: always``), then remove it
once delivered.  Segments: ``file_storage``'s own SegmentLog (one write and one fdatasync per
append, an acknowledgement appended to a side file).  SQLite: one table in WAL mode with
``synchronous=FULL`` (an INSERT of the blob and a commit per append, a DELETE per removal).
Rounds alternate between the two so that drift on the machine hits both alike; the best round
of each is printed, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from backend.extensions.file_storage.segments import Quota, SegmentLog

PAYLOAD = os.urandom(190_000)


def segments(folder: Path, batches: int) -> float:
    """Milliseconds per batch, append and removal together."""
    (folder / "segments").mkdir()
    log = SegmentLog(folder / "segments", "always", 0.1, 8 << 20, Quota(1 << 40))
    log.replay()
    started = time.perf_counter()
    records = [log.append(PAYLOAD, 500, 0.0) for _ in range(batches)]
    for record in records:
        log.ack([record])
    took = time.perf_counter() - started
    log.close()
    return took / batches * 1e3


def sqlite(folder: Path, batches: int) -> float:
    connection = sqlite3.connect(folder / "queue.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE queue (seq INTEGER PRIMARY KEY, spans INTEGER, payload BLOB)")
    started = time.perf_counter()
    for _ in range(batches):
        connection.execute("INSERT INTO queue (spans, payload) VALUES (500, ?)", (PAYLOAD,))
    for seq in range(1, batches + 1):
        connection.execute("DELETE FROM queue WHERE seq = ?", (seq,))
    took = time.perf_counter() - started
    connection.close()
    return took / batches * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    best = {"segments": float("inf"), "sqlite": float("inf")}
    for _ in range(options.rounds):
        for name, run in (("segments", segments), ("sqlite", sqlite)):
            folder = Path(tempfile.mkdtemp(prefix="queue-store-", dir="."))  # the disk the queue would use
            try:
                best[name] = min(best[name], run(folder, options.batches))
            finally:
                shutil.rmtree(folder)
    print(f"{options.batches} batches of {len(PAYLOAD):,} B, synced per append, best of {options.rounds} rounds")
    for name, ms in best.items():
        print(f"  {name:<9} {ms:7.2f} ms per batch (append + removal)")
    print(f"  sqlite / segments: {best['sqlite'] / best['segments']:.1f}x")


if __name__ == "__main__":
    main()
