"""Private database servers a fault test may stop and start: never the shared ones everybody's tests use.

PostgreSQL: a cluster made with initdb in a temp folder, on a free port, run by pg_ctl (as the
``postgres`` user when the tests run as root, which PostgreSQL refuses to be).  Redis: a
redis-server on a free port with its own folder, AOF on and ``appendfsync always``, so that a stop
and start loses nothing it acknowledged.  SQLite: the file and its folder made unwritable
(loadgen.bench.faults, which ``hotrod bench --fault`` uses too).  Embedded ClickHouse (chDB): its
tables' folders made unwritable, so that an insert cannot create its part (a disk gone read-only).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from loadgen.bench.faults import sqlite_unwritable
from tests.support import free_port, wait_for

__all__ = ["PrivatePostgres", "PrivateRedis", "chdb_unwritable", "hold", "outage_seconds", "sqlite_unwritable"]

_ROOT = os.geteuid() == 0


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), "")
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {name} is not installed")
    return found


class PrivatePostgres:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if _ROOT:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_pg_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.folder}'\n"
            )
            conf.write("fsync = on\nmax_connections = 100\n")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if _ROOT else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run(_pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(_pg_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="faults-redis-"))
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        ]  # fmt: skip
        with (self.folder / "log").open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for(self._answers, timeout=20, what=f"redis-server on {self.port}")

    def _answers(self) -> bool:
        import redis

        client = redis.Redis(port=self.port)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=20)
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def outage_seconds() -> float:
    """How long a storage stays down: short by default (CI), HOTROD_FAULT_SECONDS=20 for the issue's 20 s run."""
    return float(os.environ.get("HOTROD_FAULT_SECONDS", "3"))


def hold(seconds: float) -> None:
    """The outage itself: time passing is the fault, so this is the one place a test sleeps."""
    time.sleep(seconds)


def chdb_unwritable(folder: Path, unwritable: bool) -> None:
    """Every table folder of the chDB data ``folder`` refuses new entries (``unwritable``), or takes them again.

    A table's parts live in ``store/<prefix>/<uuid>/``: an insert writes a ``tmp_insert`` folder there first.
    """
    tables = [path for path in folder.glob("store/*/*") if path.is_dir()]
    assert tables, f"no chDB tables under {folder}"
    for path in tables:
        if _ROOT:  # root ignores file modes
            subprocess.run(["chattr", "+i" if unwritable else "-i", str(path)], check=True, timeout=10)
        else:
            path.chmod(0o555 if unwritable else 0o755)
