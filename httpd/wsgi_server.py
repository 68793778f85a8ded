"""One HTTP/1.1 WSGI server per port, on an asyncio event loop of its own thread: every HTTP endpoint we serve.

Why our own server on the standard library rather than waitress: waitress
has no header or body read deadline (a client sending a byte a second is
never timed out), refuses nothing at its connection limit (connections wait
unaccepted, so a hundred silent clients silenced a port), and serving on its
event-loop thread took its private ``_dispatcher`` and ``_map``.  granian and
cheroot were weighed: granian runs its own worker processes and cannot be
embedded as one of several servers in a process with a clean per-server stop;
cheroot gives each connection a pool thread while it reads, so a few hundred
slow clients again exhaust the pool.  An asyncio server holds a slow or idle
client as a few hundred bytes of state, times every phase of a request from a
fixed start (``httpd.limits``), and at its cap closes the longest-idle
connection or refuses the newcomer with a 503.  Ingest is at least as fast as
on waitress (benchmarks/ingest.py; numbers in the commit that made the switch).

One loop and one thread per port keep ports apart: a flood on OTLP/HTTP
never delays the health check's loop, and each port has its own cap.
``threads=0`` calls the app on the loop's thread (OTLP ingest only computes,
so a pool adds hand-offs and no speed under the GIL), and an answer that
waits (``httpd.wsgi.BLOCKING``: a disk sync) is collected by one thread that
only waits (``httpd.waiting``), so the loop serves other connections
meanwhile; otherwise a pool of that many threads runs the app, as for Flask
apps that wait on databases or other services (``pool`` makes it: a receiver's
times its requests, ``backend.core.lag``).

``stop`` stops accepting, closes connections that wait on their client, lets
requests in progress finish and be answered (up to the grace period), then
closes the rest.

The first server started raises the process's soft limit of open files to its
hard limit, as Go's runtime does: every port's connections share it with
every database file and socket, and a soft limit of 1,024 would let a flood of
connections on one port (below its own cap) starve the others of descriptors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from httpd.connection import Connection, Listener
from httpd.limits import Limits
from httpd.waiting import AnswerCollector
from httpd.wsgi import WsgiApp

_BACKLOG = 1024
log = logging.getLogger("httpd")
_raised = threading.Lock()
_files_raised = False


def raise_open_file_limit() -> None:
    """The soft RLIMIT_NOFILE up to the hard one, once per process."""
    global _files_raised
    with _raised:
        if _files_raised:
            return
        _files_raised = True
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == hard:
            return
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d to %d: %s", soft, hard, exc)


_inherited: dict[tuple[str, int], socket.socket] = {}


def inherit(sock: socket.socket) -> None:
    """Serve on ``sock``, a listening socket a parent process handed down, when asked to listen on its address.

    How a supervising process keeps a child's port across the child's restarts: it binds once and
    passes the socket on, and connections made meanwhile wait in the backlog instead of being refused.
    """
    host, port = sock.getsockname()[:2]
    _inherited[(host, port)] = sock


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; ``OSError`` when the address cannot be had (in use, not local, not a host)."""
    handed_down = _inherited.pop((host, port), None)
    if handed_down is not None:
        handed_down.setblocking(False)
        return handed_down
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise OSError(exc.errno, f"{host!r} is not a host name or address this machine can resolve") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only; a listening port still fails
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class WsgiServer:
    def __init__(
        self,
        app: WsgiApp,
        host: str,
        port: int,
        name: str,
        threads: int = 4,
        limits: Limits | None = None,
        pool: Callable[[int, str], ThreadPoolExecutor] = ThreadPoolExecutor,
    ) -> None:
        self._app = app
        self._pool = pool
        self._host = host
        self._port = port
        self._name = name
        self._threads = threads
        self.limits = limits or Limits()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self.address = ""

    def start(self) -> None:
        """Bind and listen (``OSError`` when the address cannot be had), then serve on a daemon thread."""
        raise_open_file_limit()
        sock = listen(self._host, self._port)
        host, port = sock.getsockname()[:2]
        self.address = f"{host}:{port}"
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(sock, ready, failure), name=f"{self._name}-http", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def _run(self, sock: socket.socket, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        pool = self._pool(self._threads, self._name) if self._threads > 0 else None
        # the thread that collects answers that wait (a request's disk sync), a round of them at a time
        waiting = AnswerCollector(loop, self._name) if pool is None else None
        try:
            listener, server = loop.run_until_complete(self._open(sock, pool, waiting))
        except BaseException as exc:
            failure.append(exc)
            sock.close()
            loop.close()
            _close_workers(pool, waiting)
            ready.set()
            return
        self._loop, self._listener = loop, listener
        ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            loop.run_until_complete(asyncio.sleep(0))  # let closed transports finish closing
            loop.close()
            _close_workers(pool, waiting)

    async def _open(
        self, sock: socket.socket, pool: ThreadPoolExecutor | None, waiting: AnswerCollector | None
    ) -> tuple[Listener, Any]:
        listener = Listener(self._app, self.limits, pool, self._name, waiting)
        listener.server_address = tuple(self.address.rsplit(":", 1))  # type: ignore[assignment]
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Connection(listener), sock=sock, backlog=_BACKLOG)
        listener.server = server
        return listener, server

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests in progress finish and be answered (up to ``grace`` s), close."""
        loop, listener = self._loop, self._listener
        if loop is None or listener is None:
            return
        self._loop = self._listener = None
        drained = asyncio.run_coroutine_threadsafe(listener.drain(grace), loop)
        with contextlib.suppress(TimeoutError):
            drained.result(timeout=grace + 1)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=grace + 1)


def _close_workers(pool: ThreadPoolExecutor | None, waiting: AnswerCollector | None) -> None:
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    if waiting is not None:
        waiting.close()
