"""The ``healthcheckv2`` extension: is the backend up? For orchestrators and tests.

``GET /`` and ``GET /status`` answer 200 with a JSON body while every
component runs, and 503 while the backend starts or stops, so a load
balancer stops sending before the receivers close, or while a component
has reported a problem (``problems`` in the body names each one).  It starts before every
other extension so that "starting" is observable.

The body also reports each storage of the ``jaeger_storage`` extensions:
``available`` false, with the error and since when, from the first failed
write or read until one succeeds again (``healthy`` is then false too).
The HTTP status stays 200 meanwhile (a storage outage is not one of the
``problems``), as healthcheckv2 does for recoverable errors: restarting or
unrouting a backend whose queue is riding out the outage would turn a
storage outage into lost data.

When the query API runs in a process of its own, ``query_process`` gives its
pid, whether it serves and how often it was restarted; until it first serves,
and while it is down (being restarted), ``jaeger_query`` is one of the ``problems``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from backend.core.binding import bind
from backend.core.component import Extension, ExtensionFactory, Host, Settings, Status
from backend.core.http_server import HttpServerOptions
from backend.extensions.http_extension import HttpExtension
from backend.extensions.storage.extension import StorageExtension
from backend.query_process.supervisor import QueryProcess


@dataclass
class HealthHttp(HttpServerOptions):
    endpoint: str = "127.0.0.1:13133"


@dataclass
class HealthOptions:
    use_v2: bool = True  # accepted for compatibility with Jaeger's configs; there is only one version here
    http: HealthHttp = field(default_factory=HealthHttp)


def _options(raw: Any, where: str) -> HealthOptions:
    options = bind(HealthOptions, raw, where)
    options.http.check(f"{where}.http")
    return options


class Observed(Protocol):
    """What health reads of the host: its lifecycle and the problems its components reported."""

    @property
    def status(self) -> Status: ...

    def problems(self) -> dict[str, str]: ...

    def extensions(self) -> dict[str, Extension]: ...


class HealthApp:
    def __init__(self, host: Observed) -> None:
        self._host = host
        self._started = time.time()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") not in ("/", "/status"):
            return _send(start_response, "404 Not Found", {"error": "not found; try / or /status"})
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _send(start_response, "405 Method Not Allowed", {"error": "use GET"})
        status = self._host.status
        problems = self._host.problems()
        healthy = status is Status.READY and not problems
        storages = self._storages()
        body: dict[str, Any] = {
            "status": status.value,
            "healthy": healthy and all(storage["available"] for storage in storages.values()),
            "uptime_seconds": round(time.time() - self._started, 3),
            "storage": storages,
        }
        for extension in self._host.extensions().values():
            if isinstance(extension, QueryProcess):
                body["query_process"] = extension.details()
        if problems:
            body["problems"] = problems
        return _send(start_response, "200 OK" if healthy else "503 Service Unavailable", body)

    def _storages(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for extension in self._host.extensions().values():
            if isinstance(extension, StorageExtension):
                down = extension.unavailable()
                for name in extension.names():
                    if name in down:
                        error, since = down[name]
                        found[name] = {"available": False, "error": error, "unavailable_since": round(since, 3)}
                    else:
                        found[name] = {"available": True}
        return found


def _send(start_response: Any, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class HealthExtension(HttpExtension):
    start_order = -10

    def __init__(self, settings: Settings, options: HealthOptions):
        self._settings = settings
        self._options = options

    def start(self, host: Host) -> None:
        self.serve(HealthApp(host), self._options.http, "health check", "health", threads=0)

    def shutdown(self) -> None:
        self.stop_serving()


FACTORY = ExtensionFactory("healthcheckv2", _options, HealthExtension)
