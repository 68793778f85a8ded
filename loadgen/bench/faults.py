"""Faults a benchmark step can be run through: the storage going away, or the backend killed.

``--fault storage-outage:20s`` makes the target's storage refuse writes and reads for 20 s in
the middle of the last step, ``--fault kill-backend`` (``kill-backend:5s``: dead for 5 s) sends
the backend SIGKILL there and starts it again on the same ports and folders.  The step's senders
keep going, so the report's completeness says whether every span acknowledged through the fault
was stored.  What "the storage goes away" means per storage:

- SQLite: the file, its WAL and its folder become immutable (``chattr +i`` as root, whom file
  modes do not stop; read-only modes otherwise).  The ``-shm`` index stays writable: SQLite maps
  it, and a mapped page of an immutable file ends the process with SIGBUS.
- PostgreSQL: the benchmark's own database stops taking connections and its sessions are ended
  (``ALLOW_CONNECTIONS false``, ``pg_terminate_backend``): an outage of that database alone,
  on a server others may share.
- Redis: the benchmark runs a Redis of its own for the backend (``embedded_redis``, never a shared
  one) and stops it (SIGTERM: it saves its data file), then starts it again on the same socket.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from backend.core.durations import parse_duration_ns

KINDS = ("storage-outage", "kill-backend")
DEFAULT_SECONDS = {"storage-outage": 20.0, "kill-backend": 2.0}


@dataclass(frozen=True)
class BenchFault:
    kind: str
    seconds: float  # how long the storage stays down, or the backend dead

    def describe(self) -> str:
        return f"{self.kind}:{self.seconds:g}s"


def parse_fault(text: str) -> BenchFault:
    """``storage-outage:20s``, ``kill-backend``, ``kill-backend:5s``; ValueError saying what is accepted."""
    kind, _, duration = text.partition(":")
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}; expected {' or '.join(KINDS)}, e.g. storage-outage:20s")
    seconds = parse_duration_ns(duration) / 1e9 if duration else DEFAULT_SECONDS[kind]
    if seconds <= 0:
        raise ValueError(f"the fault's duration must be positive, got {duration!r}")
    return BenchFault(kind, seconds)


class Faultable(Protocol):
    def storage_down(self) -> None: ...

    def storage_up(self) -> None: ...

    def kill(self) -> None: ...

    def restart(self) -> None: ...


@dataclass
class FaultRun:
    """When the fault began and ended, in seconds from the start of its step."""

    fault: BenchFault
    at_s: float
    began_s: float | None = None
    ended_s: float | None = None
    error: str | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self, target: Faultable) -> None:
        started = time.monotonic()
        self._thread = threading.Thread(target=self._inject, args=(target, started), name="bench-fault", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _inject(self, target: Faultable, started: float) -> None:
        time.sleep(self.at_s)  # the fault's schedule: the step runs meanwhile
        self.began_s = round(time.monotonic() - started, 3)
        try:
            if self.fault.kind == "storage-outage":
                target.storage_down()
                try:
                    time.sleep(self.fault.seconds)
                finally:
                    target.storage_up()
            else:
                target.kill()
                time.sleep(self.fault.seconds)
                target.restart()
        except Exception as exc:  # noqa: BLE001 - reported with the step, not lost in a thread
            self.error = f"{type(exc).__name__}: {exc}"
        self.ended_s = round(time.monotonic() - started, 3)


def sqlite_unwritable(database: Path, unwritable: bool) -> None:
    """The database file, its WAL and its folder refuse writes (``unwritable``), or take them again."""
    files = (p for p in database.parent.glob(database.name + "*") if p.is_file() and not p.name.endswith("-shm"))
    paths = [database.parent, *files]
    if os.geteuid() == 0:
        for path in paths:
            subprocess.run(["chattr", "+i" if unwritable else "-i", str(path)], check=True, timeout=10)
        return
    for path in paths:
        path.chmod((0o555 if unwritable else 0o755) if path.is_dir() else (0o444 if unwritable else 0o644))
