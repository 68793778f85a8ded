"""Start compose.yaml's services as local processes, from what the file says, without a Docker engine.

Each service chosen (replicas included) runs ``hotrod`` with its compose ``command`` and its
``environment`` (over the image's ENV from the Dockerfile), translated the way a container
network would resolve it onto one machine:

- a compose service name (or the container's own ``127.0.0.1``/``localhost``/``0.0.0.0``) with a
  port becomes ``127.0.0.1`` and a free ephemeral port, the same one everywhere that port appears,
  and so does every ``*_PORT`` variable;
- a bare service name given to a ``--...host`` option and a ``0.0.0.0`` bind become ``127.0.0.1``;
- ``/app`` is this checkout; ``/var/lib/hotrod`` a folder per service;
- the ``postgres`` and ``redis`` services are not started: URLs naming them point at the real
  servers of the test run instead (a database made for this run, a key prefix of its own).

A file an environment variable points at (the backend's config) is translated the same way into
a copy.  Services start in ``depends_on`` order; a dependency whose condition is
``service_healthy`` must pass its own compose healthcheck (the python one-liners run here).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.manifests import REPO, Service, dockerfile_env
from tests.support import free_port, wait_for

HOTROD = str(Path(sys.executable).with_name("hotrod"))
STAND_INS = ("postgres", "redis")
CONTAINER_HOSTS = ("127.0.0.1", "localhost", "0.0.0.0")
IMAGE_ONLY = ("PATH",)  # image ENV that makes no sense outside the container


@dataclass
class Translation:
    services: list[str]
    postgres_url: str
    redis_url: str
    redis_prefix: str
    workdir: Path
    ports: dict[int, int] = field(default_factory=dict)

    def port(self, container_port: int) -> int:
        if container_port not in self.ports:
            self.ports[container_port] = free_port()
        return self.ports[container_port]

    def url(self, host: str, container_port: int, path: str = "") -> str:
        assert host in self.services or host in CONTAINER_HOSTS, host
        return f"http://127.0.0.1:{self.port(container_port)}{path}"

    def command(self, service: Service) -> list[str]:
        """The service's command; a service name given to a ``--...host`` option is a host name too."""
        args = []
        for previous, arg in zip(["", *service.command], service.command, strict=False):
            host_value = previous.startswith("--") and previous.endswith("host") and arg in self.services
            args.append("127.0.0.1" if host_value else self.text(arg, service.name))
        return args

    def text(self, value: str, service: str) -> str:
        hosts = "|".join(re.escape(name) for name in (*self.services, *CONTAINER_HOSTS) if name not in STAND_INS)
        value = re.sub(rf"(?<![\w.-])(?:{hosts}):(\d+)\b", lambda m: f"127.0.0.1:{self.port(int(m.group(1)))}", value)
        value = re.sub(r"[a-z][a-z0-9+.-]*://[^\s/'\"]*@postgres:5432/\w+", self.postgres_url, value)
        value = re.sub(r"redis://(?:[^\s/'\"]*@)?redis:6379(?:/\d+)?", self.redis_url, value)
        value = re.sub(r"(?<![\w/])/app/", f"{REPO}/", value)
        return value.replace("/var/lib/hotrod", str(self.data_dir(service)))

    def data_dir(self, service: str) -> Path:
        folder = self.workdir / service
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def environment(self, service: Service) -> dict[str, str]:
        image_env = {k: v for k, v in dockerfile_env().items() if k not in IMAGE_ONLY}
        translated = {}
        for key, value in {**image_env, **service.environment}.items():
            if key.endswith("_PORT") and value.isdigit():
                translated[key] = str(self.port(int(value)))
            elif value == "0.0.0.0":
                translated[key] = "127.0.0.1"
            else:
                translated[key] = self.file_or_text(self.text(value, service.name), service.name)
        if any(self.redis_url in value for value in translated.values()):
            translated["HOTROD_REDIS_KEY_PREFIX"] = self.redis_prefix
        return translated

    def file_or_text(self, value: str, service: str) -> str:
        """A value naming a file of this checkout names a translated copy of it."""
        path = Path(value)
        if not (path.is_absolute() and path.is_file() and path.is_relative_to(REPO)):
            return value
        copy = self.data_dir(service) / f"translated-{path.name}"
        copy.write_text(self.text(path.read_text(), service))
        return str(copy)


@dataclass
class Running:
    service: Service
    process: subprocess.Popen
    log: Path
    replica: int = 1

    @property
    def name(self) -> str:
        return self.service.name if self.service.replicas == 1 else f"{self.service.name}-{self.replica}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def start_order(services: dict[str, Service]) -> list[str]:
    """Dependencies first (stand-ins excluded); compose refuses cycles, and so does this."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' → '.join((*path, name))}"
        if name in order or name in STAND_INS:
            return
        for dependency in services[name].depends_on:
            visit(dependency, (*path, name))
        order.append(name)

    for name in services:
        visit(name, ())
    return order


def healthy(running: Running, translation: Translation) -> bool:
    """Whether the service's compose healthcheck passes (the python one-liners run with this Python)."""
    test = running.service.healthcheck
    assert test and test[0] == "python", f"{running.service.name}: healthcheck {test} cannot run here"
    command = [sys.executable, *(translation.text(arg, running.service.name) for arg in test[1:])]
    return subprocess.run(command, capture_output=True, timeout=10).returncode == 0


def wait_healthy(running: Running, translation: Translation) -> None:
    wait_for(
        lambda: running.process.poll() is not None or healthy(running, translation),
        timeout=60,
        what=f"{running.service.name} healthy (log: {running.log})",
    )
    if running.process.poll() is not None:
        raise AssertionError(f"{running.service.name} exited with {running.process.returncode}:\n{running.log_text()}")


def start(services: dict[str, Service], translation: Translation) -> list[Running]:
    """Start every service in order, waiting where compose would; on failure stop what started."""
    started: list[Running] = []
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HOTROD_", "OTEL_", "LOADGEN_"))}
    try:
        for name in start_order(services):
            service = services[name]
            for dependency, condition in service.depends_on.items():
                if condition == "service_healthy" and dependency not in STAND_INS:
                    wait_healthy(next(r for r in started if r.service.name == dependency), translation)
            command = [HOTROD, *translation.command(service)]
            for replica in range(1, service.replicas + 1):
                log = translation.data_dir(name) / f"process-{replica}.log"
                with log.open("wb") as sink:
                    process = subprocess.Popen(
                        command,
                        env={**base, **translation.environment(service)},
                        cwd=translation.data_dir(name),
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                started.append(Running(service, process, log, replica))
        for running in started:
            if running.service.healthcheck:
                wait_healthy(running, translation)
    except BaseException:
        stop(started)
        raise
    return started


def stop(started: list[Running]) -> dict[str, int]:
    """SIGTERM in reverse start order, as ``docker compose down`` does; the exit codes."""
    codes = {}
    for running in reversed(started):
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
        try:
            codes[running.name] = running.process.wait(30)
        except subprocess.TimeoutExpired:
            running.process.kill()
            codes[running.name] = running.process.wait()
    return codes
