"""Start the real ``hotrod backend`` process on ports of its choosing, and talk to it as clients would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import BACKEND_PORT_FLAGS, DATABASE_URL, drop_schema, reported_backend_ports, wait_for

HOTROD = str(Path(sys.executable).with_name("hotrod"))
# every port 0: the backend binds what the kernel gives it and reports it (tests.support.reported_endpoints)
ANY_PORTS = tuple(arg for name in BACKEND_PORT_FLAGS for arg in (f"--{name}-port", "0"))


class BackendProcess:
    """One backend process; ``ports`` by flag name, as it reported them; stderr kept in a file for assertions.

    Backends of one test share its folder; each gets a persistent queue folder of its own (a queue is
    locked by the process using it) unless the arguments choose one.
    """

    def __init__(self, workdir: Path, args: list[str]) -> None:
        self.workdir = workdir
        if not any("file_storage" in arg for arg in args):
            args = [*args, "--set", f"extensions.file_storage.directory=queue-{uuid.uuid4().hex[:8]}"]
        self.args = args
        self.ports: dict[str, int] = {}
        self.log_path = workdir / f"backend-{uuid.uuid4().hex[:8]}.log"
        self.process: subprocess.Popen | None = None

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.ports['otlp-grpc']}"

    def start(self) -> BackendProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [HOTROD, "backend", *ANY_PORTS, *self.args], cwd=self.workdir, stdout=log, stderr=log
            )
        self.ports = wait_for(self._reported, timeout=30, what=f"backend ready (log: {self.log_path})")
        wait_for(self._healthy, timeout=30, what=f"backend healthy (log: {self.log_path})")
        return self

    def restart(self) -> BackendProcess:
        """Start again after a kill, in the same folder and on the same ports, so that senders carry on."""
        fixed = [arg for name, port in self.ports.items() for arg in (f"--{name}-port", str(port))]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [HOTROD, "backend", *ANY_PORTS, *fixed, *self.args], cwd=self.workdir, stdout=log, stderr=log
            )
        wait_for(self._up, timeout=30, what=f"backend healthy again (log: {self.log_path})")
        return self

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"backend exited with {self.process.returncode}:\n{self.log}")
        return self._healthy()

    def _reported(self) -> dict[str, int] | None:
        if self.process.poll() is not None:
            raise AssertionError(f"backend exited with {self.process.returncode}:\n{self.log}")
        return reported_backend_ports(self.log)

    def _healthy(self) -> bool:
        return requests.get(self.url("health", "/status"), timeout=2).status_code == 200

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait for the drain to finish; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


class Launcher:
    """Starts backends in one folder and kills whatever is still running at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[BackendProcess] = []

    def __call__(self, *args: str) -> BackendProcess:
        backend = BackendProcess(self.workdir, list(args))
        self.started.append(backend)
        return backend.start()

    def close(self) -> None:
        for backend in self.started:
            if backend.process and backend.process.poll() is None:
                backend.process.kill()
                backend.process.wait()


@pytest.fixture
def start_backend(tmp_path: Path) -> Iterator[Launcher]:
    """``start_backend(*args)`` → a started BackendProcess in ``tmp_path``."""
    launcher = Launcher(tmp_path)
    yield launcher
    launcher.close()


@pytest.fixture(scope="module")
def module_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Like ``start_backend``, for backends that a whole test module shares."""
    launcher = Launcher(tmp_path_factory.mktemp("backend"))
    yield launcher
    launcher.close()


def run_backend(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess:
    """Run ``hotrod backend`` expecting it to exit by itself (a configuration error); ``env`` adds variables."""
    return subprocess.run(
        [HOTROD, "backend", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, schema) in the test database, with a schema unique to this session."""
    schema = f"backend_test_{uuid.uuid4().hex[:10]}"
    yield DATABASE_URL, schema
    drop_schema(schema)
