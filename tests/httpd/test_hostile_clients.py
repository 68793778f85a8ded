"""1,000 silent and 300 slowloris connections on one port do not keep a normal client waiting, on any port.

The backend is ``hotrod backend`` as users run it (the built-in config, memory storage); the HotROD
service is ``hotrod route``.  While the hostile connections are open, each normal request must be
answered within 1 s (the client's timeout), on the abused port and on the others.  The test process
needs ~1,400 descriptors at once, so it raises its soft RLIMIT_NOFILE (children inherit it) when lower.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.backend.clients import PROTOBUF
from tests.backend.conftest import HOTROD, Launcher
from tests.builders import SpanSpec, export_request
from tests.support import reported_service_ports, wait_for

IDLE = 1000
SLOWLORIS = 300
TRICKLE_INTERVAL = 0.5  # seconds between the bytes each slowloris connection sends
NEEDED_DESCRIPTORS = 4096


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < NEEDED_DESCRIPTORS:
        if hard != resource.RLIM_INFINITY and hard < NEEDED_DESCRIPTORS:
            pytest.skip(f"needs {NEEDED_DESCRIPTORS} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (NEEDED_DESCRIPTORS, hard))


class Hostile:
    """Silent connections, and slowloris ones that send a request head one byte at a time, never finishing it."""

    def __init__(self, port: int) -> None:
        self._address = ("127.0.0.1", port)
        self._silent: list[socket.socket] = []
        self._slow: list[socket.socket] = []
        self._stop = threading.Event()
        self._trickler = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> Hostile:
        for _ in range(IDLE):
            self._silent.append(socket.create_connection(self._address, timeout=5))
        for _ in range(SLOWLORIS):
            slow = socket.create_connection(self._address, timeout=5)
            slow.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            self._slow.append(slow)
        self._trickler.start()
        return self

    def _trickle(self) -> None:
        while not self._stop.wait(TRICKLE_INTERVAL):
            for slow in self._slow:
                with contextlib.suppress(OSError):  # the server may end it; that is its right
                    slow.send(b"a")

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._trickler.join(timeout=5)
        for connection in self._silent + self._slow:
            connection.close()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Started with a soft limit of 1,024 open files, fewer than one flood needs: the server raises its own."""
    launcher = Launcher(tmp_path_factory.mktemp("hostile"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, soft), hard))
    try:
        started = launcher("--storage", "memory")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    yield started
    launcher.close()


def test_the_backend_raises_its_open_file_limit_to_the_hard_limit(backend):
    limits = Path(f"/proc/{backend.process.pid}/limits").read_text()
    (line,) = [line for line in limits.splitlines() if line.startswith("Max open files")]
    soft, hard = line.split()[3:5]
    assert soft == hard


SPAN = SpanSpec("frontend", "HTTP GET /dispatch")
EXPORT = export_request([SPAN]).SerializeToString()


def answers_within_a_second(backend, port_name: str) -> None:  # noqa: ANN001 - BackendProcess
    exported = requests.post(backend.url("otlp-http", "/v1/traces"), data=EXPORT, headers=PROTOBUF, timeout=1)
    assert exported.status_code == 200
    assert requests.get(backend.url("query", "/api/services"), timeout=1).status_code == 200
    assert requests.get(backend.url("health", "/status"), timeout=1).status_code == 200
    if port_name == "metrics":
        assert requests.get(backend.url("metrics", "/metrics"), timeout=1).status_code == 200
    if port_name == "sampling":
        assert requests.get(backend.url("sampling", "/api/sampling?service=frontend"), timeout=1).status_code == 200


@pytest.mark.parametrize("port_name", ["otlp-http", "query", "health", "metrics", "sampling"])
def test_the_backend_answers_within_a_second_while_one_port_is_flooded(backend, port_name):
    with Hostile(backend.ports[port_name]):
        answers_within_a_second(backend, port_name)


@pytest.fixture(scope="module")
def route(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir: Path = tmp_path_factory.mktemp("route")
    env = {**os.environ, "OTEL_SDK_DISABLED": "true"}
    args = [HOTROD, "route", "--route-port=0", "--delay-scale=0.01", f"--data-dir={workdir}"]
    args.append("--http-idle-timeout=0.5s")
    log = workdir / "route.log"
    with log.open("w") as output:
        process = subprocess.Popen(args, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=output)
    try:
        ports = wait_for(lambda: reported_service_ports(log.read_text()), timeout=30, what="hotrod route listening")
        yield f"http://127.0.0.1:{ports['route']}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_hotrod_service_answers_within_a_second_while_its_port_is_flooded(route):
    port = int(route.rsplit(":", 1)[1])
    with Hostile(port):
        assert requests.get(f"{route}/health", timeout=1).status_code == 200
        answer = requests.get(f"{route}/route", params={"pickup": "1,2", "dropoff": "3,4"}, timeout=1)
        assert answer.status_code == 200


def test_a_hotrod_service_closes_a_kept_alive_connection_after_its_http_idle_timeout(route):
    port = int(route.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := client.recv(4096):  # the answer, then the close after 0.5 s idle (the default is 15 s)
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK")
