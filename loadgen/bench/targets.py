"""What the benchmark runs against: a fresh ``hotrod backend`` per storage, or an external endpoint pair.

A fresh process per storage keeps runs independent (no warm caches, no data from the previous
backend) and lets the benchmark measure that process alone: CPU time, peak RSS, and the disk its
storage took.  PostgreSQL gets a database of its own, created here and dropped afterwards, so its
size is the benchmark's data and nothing else.  An external target (a real Jaeger, another
collector) is only an OTLP URL and a query URL: nothing to start, nothing to measure inside.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from embedded_redis import EmbeddedRedis
from loadgen.bench.faults import sqlite_unwritable

READY_LINE = re.compile(r"hotrod backend ready: (.*)")
START_TIMEOUT_S = 60.0
EXTERNAL_TIMEOUT_S = 10.0  # an external endpoint is already running: no start-up to wait for
SAMPLE_INTERVAL_S = 0.2


@dataclass(frozen=True)
class Endpoints:
    otlp_http: str  # base URL; exports go to {otlp_http}/v1/traces
    query: str  # Jaeger query API base URL
    otlp_grpc: str = ""  # host:port, when known


@dataclass
class ProcessUsage:
    """CPU seconds and memory of one process and its children (the query process), sampled while the benchmark runs."""

    process: psutil.Process
    peak_rss: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _processes(self) -> list[psutil.Process]:
        try:
            return [self.process, *self.process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return [self.process]

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self._processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue  # a child that just ended
            total += times.user + times.system
        return total

    def rss(self) -> int:
        total = 0
        for process in self._processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def start_sampling(self) -> None:
        threading.Thread(target=self._sample, name="bench-rss-sampler", daemon=True).start()

    def stop_sampling(self) -> None:
        self._stop.set()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            try:
                self.peak_rss = max(self.peak_rss, self.rss(), _high_water_mark(self.process.pid))
            except psutil.Error:
                return


def _high_water_mark(pid: int) -> int:
    """Linux keeps the true peak RSS (VmHWM); sampling alone could miss a short spike."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class ExternalTarget:
    """Any OTLP collector plus Jaeger-compatible query API, already running."""

    def __init__(self, name: str, otlp_http: str, query: str) -> None:
        self.name = name
        self.endpoints = Endpoints(otlp_http.rstrip("/"), query.rstrip("/"))
        self.usage: ProcessUsage | None = None

    def start(self) -> Endpoints:
        _wait_for_query_api(self.endpoints.query, None, EXTERNAL_TIMEOUT_S)
        return self.endpoints

    def stop(self) -> None:
        """Nothing to stop: the endpoint is someone else's."""

    def disk_bytes(self) -> int | None:
        return None


class BackendTarget:
    """``hotrod backend --storage KIND`` in a process of its own, on ports it picks itself."""

    def __init__(self, storage: str, workdir: Path, postgres_url: str, overrides: list[str] | None = None) -> None:
        self.name = storage
        self.storage = storage
        self.overrides = overrides or []  # backend config "--set KEY=VALUE"s
        self.workdir = workdir
        self.postgres_url = postgres_url
        self.usage: ProcessUsage | None = None
        self._process: subprocess.Popen | None = None
        self._database: str | None = None
        self._redis: EmbeddedRedis | None = None  # the redis storage's own server, which an outage stops
        self._redis_folder: Path | None = None
        self._sqlite_file = workdir / storage / "traces.db"  # a folder of its own: an outage makes it immutable
        self.clickhouse_folder = workdir / "clickhouse"  # the embedded engine's data
        self.log_path = workdir / f"backend-{storage}.log"
        self._command: list[str] = []
        self.endpoints = Endpoints("", "")

    def start(self) -> Endpoints:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-c", "from hotrod.cli import main; main()", "backend", "--storage", self.storage]
        command += ["--bind", "127.0.0.1", "--log-level", "warning"]
        ports = ("--otlp-grpc-port", "--otlp-http-port", "--query-port", "--health-port", "--metrics-port")
        # every other port on 0 too: a fixed one held by another process on the machine would stop the start
        legacy = ("--jaeger-compact-port", "--jaeger-binary-port", "--jaeger-http-port", "--jaeger-grpc-port")
        for port in (*ports, "--sampling-port", "--sampling-grpc-port", *legacy, "--zipkin-port"):
            command += [port, "0"]
        # its persistent sending queue in the benchmark's folder, one per storage, kept across a restart
        command += ["--set", f"extensions.file_storage.directory={self.workdir / (self.storage + '-queue')}"]
        for override in self.overrides:
            command += ["--set", override]
        if self.storage == "sqlite":
            command += ["--storage-url", f"sqlite:///{self._sqlite_file}"]
        elif self.storage == "clickhouse":
            command += ["--set", f"extensions.jaeger_storage.backends.main.clickhouse.path={self.clickhouse_folder}"]
        elif self.storage == "postgres":
            command += ["--storage-url", self._create_database()]
        elif self.storage == "redis":
            command += ["--storage-url", self._start_redis()]
        self._command = command
        self.endpoints = self._launch(command)
        return self.endpoints

    def _launch(self, command: list[str]) -> Endpoints:
        # one pipe for both streams: the ready line is read from it, everything goes to the log
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        endpoints = self._read_ready_line()
        self.usage = ProcessUsage(psutil.Process(self._process.pid))
        self.usage.start_sampling()
        _wait_for_query_api(endpoints.query, self._process, START_TIMEOUT_S)
        return endpoints

    # faults (loadgen.bench.faults)

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye; what the backend acknowledged is in its persistent queue."""
        assert self._process is not None
        if self.usage:
            self.usage.stop_sampling()
        self._process.kill()
        self._process.wait()

    def restart(self) -> None:
        """The same command on the same OTLP and query ports, so the senders carry on."""
        fixed = {
            "--otlp-http-port": self.endpoints.otlp_http.rpartition(":")[2],
            "--otlp-grpc-port": self.endpoints.otlp_grpc.rpartition(":")[2],
            "--query-port": self.endpoints.query.rpartition(":")[2],
        }
        previous = ["", *self._command[:-1]]
        command = [fixed.get(flag, arg) for flag, arg in zip(previous, self._command, strict=True)]
        self._launch(command)

    def storage_down(self) -> None:
        if self.storage == "sqlite":
            sqlite_unwritable(self._sqlite_file, True)
        elif self.storage == "postgres" and self._database:
            _admin_sql(self.postgres_url, f'ALTER DATABASE "{self._database}" ALLOW_CONNECTIONS false')
            _admin_sql(
                self.postgres_url,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name",
                {"name": self._database},
            )
        elif self.storage == "redis" and self._redis is not None:
            self._redis.close()  # SIGTERM: it saves its data file, as a Redis restarted for maintenance does
        else:
            raise ValueError(f"a storage outage needs sqlite, postgres or redis, not {self.storage}")

    def storage_up(self) -> None:
        if self.storage == "sqlite":
            sqlite_unwritable(self._sqlite_file, False)
        elif self.storage == "postgres" and self._database:
            _admin_sql(self.postgres_url, f'ALTER DATABASE "{self._database}" ALLOW_CONNECTIONS true')
        elif self.storage == "redis" and self._redis_folder is not None:
            # on the fault's own thread, which ends soon: not tied to it (``drop`` stops this server)
            self._redis = EmbeddedRedis(self._redis_folder / "dump.rdb", tied_to_thread=False)

    def stop(self) -> None:
        if self._process is None:
            return
        if self.usage:
            self.usage.stop_sampling()
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def storage_options(self) -> tuple[str, dict[str, Any]]:
        """(kind, options) that open this target's data in another process once the backend has stopped."""
        if self.storage == "clickhouse":
            return "clickhouse", {"path": str(self.clickhouse_folder), "retention": 0}
        if self.storage == "sqlite":
            return "sql", {"url": f"sqlite:///{self._sqlite_file}", "retention": 0}
        if self.storage == "postgres" and self._database:
            url = make_url(self.postgres_url).set(database=self._database).render_as_string(hide_password=False)
            return "sql", {"url": url, "retention": 0}
        raise ValueError(f"{self.storage} keeps nothing once its backend has stopped")

    def drop(self) -> None:
        """Remove what the run left behind (the PostgreSQL database; SQLite files stay in the output)."""
        if self._database:
            _admin_sql(self.postgres_url, f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)')
            self._database = None
        if self._redis is not None:
            self._redis.close()
            self._redis = None
        if self._redis_folder is not None:
            shutil.rmtree(self._redis_folder, ignore_errors=True)
            self._redis_folder = None

    def disk_bytes(self) -> int | None:
        if self.storage == "sqlite":
            files = [self._sqlite_file, *self._sqlite_file.parent.glob(self._sqlite_file.name + "-*")]
            return sum(f.stat().st_size for f in files if f.exists())
        if self.storage == "clickhouse":
            return sum(f.stat().st_size for f in self.clickhouse_folder.rglob("*") if f.is_file())
        if self.storage == "postgres" and self._database:
            return int(_admin_sql(self.postgres_url, "SELECT pg_database_size(:name)", {"name": self._database}))
        return None

    def _start_redis(self) -> str:
        """A Redis of the benchmark's own (never a shared one), in a short folder: its Unix socket's path, and so
        the URL the backend keeps, stays the same when an outage stops and starts it."""
        self._redis_folder = Path(tempfile.mkdtemp(prefix="bench-redis-"))
        self._redis = EmbeddedRedis(self._redis_folder / "dump.rdb")
        return self._redis.url

    def _create_database(self) -> str:
        self._database = f"hotrod_bench_{uuid.uuid4().hex[:12]}"
        _admin_sql(self.postgres_url, f'CREATE DATABASE "{self._database}"')
        return make_url(self.postgres_url).set(database=self._database).render_as_string(hide_password=False)

    def _read_ready_line(self) -> Endpoints:
        assert self._process is not None and self._process.stdout is not None
        output = self._process.stdout
        log = self.log_path.open("a")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            line = output.readline()
            if not line and self._process.poll() is not None:
                break
            log.write(line)
            match = READY_LINE.search(line)
            if match:
                log.flush()
                threading.Thread(target=_copy, args=(output, log), daemon=True).start()  # keep the pipe drained
                addresses = dict(part.strip().split(" ", 1) for part in match.group(1).split(","))
                return Endpoints(
                    f"http://{addresses['otlp/http']}", f"http://{addresses['jaeger_query']}", addresses["otlp/grpc"]
                )
        log.close()
        self.stop()
        raise RuntimeError(f"backend ({self.storage}) did not start; see {self.log_path}")


def _copy(source, log) -> None:
    with log:
        for line in source:
            log.write(line)
            log.flush()


def _admin_sql(url: str, statement: str, parameters: dict[str, Any] | None = None) -> Any:
    """One statement outside a transaction (CREATE/DROP DATABASE need that); its scalar result."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result = connection.execute(text(statement), parameters or {})
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def _wait_for_query_api(query_url: str, process: subprocess.Popen | None, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"backend exited with status {process.returncode} while starting")
        try:
            if requests.get(f"{query_url}/api/services", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"query API at {query_url} did not answer within {timeout_s:g}s")
