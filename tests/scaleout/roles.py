"""Role processes: ``hotrod backend --config deploy/roles/cluster/<role>.yaml`` as shipped, ports and ids overridden.

Every port is 0 (the OS picks); the addresses are read from the line the
process prints once it is ready, so nothing races for a port chosen ahead.
Each process runs in a folder of its own, as on its own host (a collector's
persistent queue is data/queue there).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.support import reported_endpoints, wait_for

ROLES = Path(__file__).resolve().parents[2] / "deploy" / "roles" / "cluster"
HOTROD = str(Path(sys.executable).with_name("hotrod"))
PORT_FLAGS = {
    "collector": ["--otlp-grpc-port", "0", "--otlp-http-port", "0", "--health-port", "0", "--metrics-port", "0"],
    "ingester": ["--health-port", "0", "--metrics-port", "0"],
    "query": ["--query-port", "0", "--health-port", "0", "--metrics-port", "0"],
}


class RoleProcess:
    def __init__(self, role: str, name: str, settings: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.log = workdir / f"{name}.log"
        overrides = [f"--set={path}={value}" for path, value in settings.items()]
        command = [HOTROD, "backend", "--config", str(ROLES / f"{role}.yaml"), *PORT_FLAGS[role], *overrides]
        home = workdir / name
        home.mkdir(exist_ok=True)
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(command, cwd=home, stdout=log, stderr=log)
        self.endpoints: dict[str, str] = {}

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the ready line names the endpoints; a process that exits first fails with its log."""
        self.endpoints = wait_for(self._reported, timeout=timeout, what=f"{self.name} ready (log: {self.log})")

    def _reported(self) -> dict[str, str] | None:
        if self.popen.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.popen.returncode}: {self.log.read_text()}")
        return reported_endpoints(self.log.read_text())

    def url(self, endpoint: str, path: str) -> str:
        return f"http://{self.endpoints[endpoint]}{path}"

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
