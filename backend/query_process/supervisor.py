"""``QueryProcess``: the ingesting backend's stand-in for ``jaeger_query``, running it in a child process.

The backend binds the query port itself, at start, and hands the listening
socket to each child it runs (``httpd.wsgi_server.inherit``): a taken port stops
start-up as it always did, start-up prints the address at once (under
``jaeger_query``, so ``hotrod all`` finds it where it always did), and clients
that connect while a child loads or restarts wait in the backlog instead of
being refused.  Ingest does not wait for the query API: ``start`` starts the
child, which loads its interpreter and modules meanwhile; ``ready`` (once every
component runs, so the database is prepared before a reader opens it) tells it
to go.  Until it serves, the health endpoint names ``jaeger_query`` among its
problems.  While it serves, the child tells of each storage it finds failing
or working again, and that goes to this process's storage extension, so the
health endpoint and ``jaeger_storage_up`` say what queries see, as in one process.

Supervision: a thread waits for the child; if it exits while the backend runs
(a crash, ``kill -9``) or cannot start, the problem is reported and a new child
is started on the same socket, backing off from 0.5 s to 10 s while it keeps
failing.  The child dies with its parent: it asks the kernel for SIGKILL when
the thread that started it ends (``PR_SET_PDEATHSIG``, as the embedded Redis
does), and it stops when its stdin pipe closes.  Shutdown closes that pipe,
sends SIGTERM and waits, so a stopped backend leaves no process.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from backend.core.binding import ConfigError
from backend.core.component import Extension, Host, StartError
from backend.core.endpoints import parse_endpoint
from backend.core.http_server import bind_failure
from backend.core.selfmetrics import SelfMetrics
from backend.extensions.storage.extension import find_storage_extension
from backend.query_process.plan import QUERY_ID, Split
from httpd.wsgi_server import listen

log = logging.getLogger("backend.query_process")

START_TIMEOUT_S = 120.0  # a loaded machine takes long to import the query API; clients wait in the backlog
STOP_TIMEOUT_S = 30.0
BACKOFF_S = (0.5, 10.0)  # first and longest wait between restarts
WHAT = "jaeger_query extension (query API and UI)"


class SeenByQueryProcess(Exception):
    """A storage failure the query process found (its text is the child's ``Type: message``)."""


class QueryProcess(Extension):
    start_order = -20  # first: the child loads while everything else starts (see ready)

    def __init__(self, split: Split, source: str, metrics: SelfMetrics) -> None:
        self._tree = copy.deepcopy(split.child)
        self._source = source
        self._metrics = metrics
        self._tail_sampling = split.tail_sampling
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._serving = threading.Event()
        self._socket: socket.socket | None = None
        self._process: subprocess.Popen[str] | None = None
        self._address = ""
        self._pid = 0
        self._restarts = 0
        self._host: Host | None = None
        self._watcher: threading.Thread | None = None

    def start(self, host: Host) -> None:
        self._host = host
        query = self._tree["extensions"][QUERY_ID]
        http = query.setdefault("http", {})
        where = f"{self._source}: extensions.{QUERY_ID}.http.endpoint"
        address, port = parse_endpoint(http.get("endpoint", "127.0.0.1:16686"), where)
        try:
            self._socket = listen(address, port)
        except OSError as exc:
            raise StartError(where, bind_failure(WHAT, address, port, exc)) from exc
        bound_host, bound_port = self._socket.getsockname()[:2]
        self._address = f"[{bound_host}]:{bound_port}" if ":" in bound_host else f"{bound_host}:{bound_port}"
        http["endpoint"] = self._address  # the child serves the socket it is handed, found by this address
        if self._tail_sampling and self._metrics.address:  # /metrics is served before any extension starts
            query["tail_sampling_metrics"] = f"http://{_loopback(self._metrics.address)}/metrics"
        self._report("the query process is starting")
        self._process = self._spawn()

    def ready(self) -> None:
        """Let the child open the storage and serve; the watcher waits for it, so ingest need not."""
        assert self._process is not None
        _send(self._process, "go")
        self._watcher = threading.Thread(target=self._supervise, name="query-process-watch", daemon=True)
        self._watcher.start()

    def endpoints(self) -> dict[str, str]:
        return {QUERY_ID: self._address} if self._address else {}

    def wait_serving(self, timeout_s: float) -> bool:
        """Whether the child serves within ``timeout_s`` (``hotrod all`` waits before its self-check)."""
        return self._serving.wait(timeout_s)

    def details(self) -> dict[str, Any]:
        """For the health endpoint: the child's pid, whether it serves and how often it was restarted."""
        return {"pid": self._pid, "running": self._serving.is_set(), "restarts": self._restarts}

    def _spawn(self) -> subprocess.Popen[str]:
        """A child with its config and the socket, loading; it opens the storage and serves once told to go."""
        assert self._socket is not None
        fd = self._socket.fileno()
        # no preexec_fn: a fork of a process running gRPC threads warns; the child asks for its death signal itself
        command = [sys.executable, "-m", "backend.query_process.child", str(os.getpid())]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, pass_fds=(fd,))
        self._pid = process.pid
        _send(process, json.dumps({"tree": self._tree, "source": self._source, "listen_fd": fd}))
        return process

    def _supervise(self) -> None:
        process = self._process
        wait = BACKOFF_S[0]
        while process is not None and not self._stopping.is_set():
            problem, served = self._serve(process)
            if self._stopping.is_set():
                return
            self._serving.clear()
            self._report(problem)
            log.error("%s", problem)
            if served:
                wait = BACKOFF_S[0]  # it ran: try again soon; one that cannot start waits longer each time
            self._stopping.wait(wait)
            wait = min(wait * 2, BACKOFF_S[1])
            with self._lock:
                if self._stopping.is_set():
                    return
                process = self._process = self._spawn()
                self._restarts += 1
            _send(process, "go")

    def _serve(self, process: subprocess.Popen[str]) -> tuple[str, bool]:
        """Wait for the child to answer, then for it to exit; returns what went wrong and whether it had served."""
        try:
            answer = _read_answer(process, START_TIMEOUT_S)
        except (RuntimeError, ValueError, OSError) as exc:  # ValueError: its pipe closed by shutdown, or garbled
            _stop(process)
            return f"the query process (pid {process.pid}) did not start: {exc}", False
        if "ready" not in answer:
            _stop(process)
            why = f"{answer.get('where')}: {answer.get('error')}" if answer.get("where") else answer.get("error")
            return f"the query process (pid {process.pid}) cannot start: {why}", False
        self._serving.set()
        self._report(None)
        log.info("the query API runs in process %d at %s", process.pid, self._address)
        with contextlib.suppress(ValueError, OSError):  # ValueError: shutdown closed the pipe
            assert process.stdout is not None
            for line in process.stdout:
                self._storage_news(json.loads(line))
                _send(process, "ack")  # the child's query answers once this process knows
        code = process.wait()
        return f"the query process (pid {process.pid}) exited with status {code}; restarting it", True

    def _storage_news(self, news: dict[str, Any]) -> None:
        """What the child's queries found of a storage, told to this process's storage extension (health, metrics)."""
        assert self._host is not None
        name, error = str(news["storage"]), news.get("error")
        where = f"{self._source}: extensions.{QUERY_ID}.storage"
        try:
            storage = find_storage_extension(self._host, name, where)
        except ConfigError:
            return  # a storage only the query process has (a metric backend): nothing here to tell
        storage.report(name, SeenByQueryProcess(error) if error else None)

    def _report(self, problem: str | None) -> None:
        if self._host is not None:
            self._host.report(QUERY_ID, problem)

    def shutdown(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None:
            _stop(process)
        if self._watcher is not None:
            self._watcher.join(STOP_TIMEOUT_S)
            self._watcher = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._serving.clear()
        self._address = ""


def _send(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    with contextlib.suppress(OSError):  # it died already: its exit status says why
        process.stdin.write(line + "\n")
        process.stdin.flush()


def _read_answer(process: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
    """The child's one-line answer; its exit or silence past ``timeout_s`` is an error."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no answer within {timeout_s:g}s")
            if selector.select(left):
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError(f"it exited with status {process.wait()} before it was ready")
                found: dict[str, Any] = json.loads(line)
                return found


def _stop(process: subprocess.Popen[str]) -> None:
    """Close its stdin (it stops at EOF), SIGTERM, wait; SIGKILL if it will not go."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):  # it is gone already
            process.stdin.close()
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("the query process did not stop within %gs; killed", STOP_TIMEOUT_S)
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _loopback(address: str) -> str:
    host, _, port = address.rpartition(":")
    return f"{'127.0.0.1' if host in ('0.0.0.0', '::', '[::]', '') else host}:{port}"
