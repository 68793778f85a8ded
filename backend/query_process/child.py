"""The query process itself: ``python -m backend.query_process.child PARENT_PID``, started by ``QueryProcess``.

It reads one JSON line on stdin (``{"tree": config mapping, "source": where it came from,
"listen_fd": the query port's listening socket, bound by the parent}``)
and builds a ``BackendService`` from it, loading the query API's modules, while the parent
starts; then, at the line ``go`` (the parent has started, its storage is prepared), it starts
the service and answers one JSON line on stdout: ``{"ready": endpoints, "pid": pid}``, or
``{"error": message, "where": config key, "config": bool}`` when it cannot start.  Later
lines tell the parent of each storage it finds failing or working again (``{"storage": name,
"error": text or null}``), so that the parent's health endpoint and ``jaeger_storage_up`` say
what its queries see; the parent answers each with a line ``ack`` on stdin.  It serves until
stdin closes (the parent stopped, or died: the pipe closes with it) or SIGTERM, and shuts
down cleanly.  Its logs go to stderr, which it shares with the parent.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from backend.config import from_mapping
from backend.core.binding import ConfigError
from backend.core.component import StartError
from backend.core.process_tuning import tune_process
from backend.extensions.storage.extension import StorageExtension
from embedded_redis import die_with
from httpd.wsgi_server import inherit

if TYPE_CHECKING:
    from backend.service import BackendService

LOG_FORMAT = "%(asctime)s %(levelname)s [query process] %(name)s: %(message)s"


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


ACK_TIMEOUT_S = 5.0


def _forward_storage_news(service: BackendService, channel: TextIO, acked: threading.Event) -> None:
    """Tell the parent when a storage is found failing or working again, so its health and metrics say so.

    Each piece of news waits for the parent's ``ack`` (at most ``ACK_TIMEOUT_S``): the query that
    found it answers only then, so a client that reads health after a 503 sees the storage down.
    """
    lock = threading.Lock()

    def tell(name: str, error: Exception | None) -> None:
        news = {"storage": name, "error": f"{type(error).__name__}: {error}" if error else None}
        with lock:
            acked.clear()
            try:
                channel.write(json.dumps(news) + "\n")
                channel.flush()
            except (OSError, ValueError):
                return  # the parent is gone: nobody to tell
            acked.wait(ACK_TIMEOUT_S)

    for extension in service.extensions().values():
        if isinstance(extension, StorageExtension):
            extension.watch(tell)


def main() -> int:
    die_with(int(sys.argv[1]))  # SIGKILL when the parent's starting thread ends (it passes its pid)
    from backend.service import BackendService

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    line = sys.stdin.readline()
    if not line:
        return 0  # the parent stopped before it needed this process
    request = json.loads(line)
    inherit(socket.socket(fileno=request["listen_fd"]))  # the query port, bound by the parent
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        config = from_mapping(request["tree"], request["source"])
        level = config.telemetry.logs.level.upper()
        logging.basicConfig(level="WARNING" if level == "WARN" else level, format=LOG_FORMAT)
        service = BackendService(config)
        import backend.query.app  # noqa: F401 - what jaeger_query loads at start, loaded while the parent starts

        if sys.stdin.readline().strip() != "go":
            return 0  # the parent's start-up failed: nothing to serve
        # As the parent does: a 10,000-span trace is ~200,000 fresh objects, and with Python's default
        # thresholds collecting them was ~20% of the trace page's CPU and ~40% of /api/transform's.
        tune_process()
        service.start()
    except (ConfigError, StartError) as exc:
        message = str(exc).removeprefix(f"{exc.where}: ") if exc.where else str(exc)
        _answer({"error": message, "where": exc.where, "config": isinstance(exc, ConfigError)})
        return 2
    except Exception as exc:  # a database that refuses: the parent reports it like its own
        _answer({"error": f"{type(exc).__name__}: {exc}", "where": "", "config": False})
        return 1
    _answer({"ready": service.endpoints, "pid": os.getpid()})
    # the pipe carries only storage news from now on; anything else printed goes to stderr
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    acked = threading.Event()
    _forward_storage_news(service, channel, acked)

    def watch_parent() -> None:
        for command in sys.stdin:  # ends at EOF: the parent closed the pipe or is gone
            if command.strip() == "ack":
                acked.set()
        stop.set()

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    stop.wait()
    service.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
