"""``QueryProcess``: the ingesting backend's stand-in for ``jaeger_query``, running it in a child process.

Start-up runs beside the backend's: ``start`` (first of all extensions) starts
the child and hands it the config, and the child loads its interpreter and
modules meanwhile; ``ready`` (once every component runs, so the ingesting
process has prepared the database before a reader opens it) tells it to go
and returns once it listens.  Its ``endpoints`` are the child's, under
``jaeger_query``, so start-up prints and ``hotrod all`` find the query API
where they always did.

Supervision: a thread waits for the child; if it exits while the backend runs
(a crash, ``kill -9``) the health endpoint reports ``jaeger_query`` as a problem
and the child is started again on the same address, backing off from 0.5 s
to 10 s while it keeps failing.  The child dies with its parent: the kernel
sends it SIGKILL when the thread that started it ends (``PR_SET_PDEATHSIG``, as
for the embedded Redis), and it also stops when its stdin pipe closes.  Shutdown
closes that pipe, sends SIGTERM and waits, so a stopped backend leaves no process.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import selectors
import subprocess
import sys
import threading
import time
from typing import Any

from backend.core.binding import ConfigError
from backend.core.component import Extension, Host, StartError
from backend.core.selfmetrics import SelfMetrics
from backend.query_process.plan import QUERY_ID, Split

log = logging.getLogger("backend.query_process")

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
BACKOFF_S = (0.5, 10.0)  # first and longest wait between restarts


class QueryProcess(Extension):
    start_order = -20  # first: the child loads while everything else starts (see ready)

    def __init__(self, split: Split, source: str, metrics: SelfMetrics) -> None:
        self._tree = copy.deepcopy(split.child)
        self._source = source
        self._metrics = metrics
        self._tail_sampling = split.tail_sampling
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._endpoints: dict[str, str] = {}
        self._pid = 0
        self._restarts = 0
        self._host: Host | None = None
        self._watcher: threading.Thread | None = None

    def start(self, host: Host) -> None:
        self._host = host
        if self._tail_sampling and self._metrics.address:  # served before any extension starts
            query = self._tree["extensions"][QUERY_ID]
            query["tail_sampling_metrics"] = f"http://{_loopback(self._metrics.address)}/metrics"
        self._process = self._spawn()

    def ready(self) -> None:
        assert self._process is not None
        self._endpoints, self._pid = self._go(self._process)
        # a restarted child binds what this one bound, so clients keep their address even on port 0
        self._tree["extensions"][QUERY_ID].setdefault("http", {})["endpoint"] = self._endpoints[QUERY_ID]
        log.info("query API runs in process %d at %s", self._pid, self._endpoints[QUERY_ID])
        self._watcher = threading.Thread(target=self._supervise, name="query-process-watch", daemon=True)
        self._watcher.start()

    def endpoints(self) -> dict[str, str]:
        return dict(self._endpoints)

    def details(self) -> dict[str, Any]:
        """For the health endpoint: the child's pid, whether it runs and how often it was restarted."""
        process = self._process
        running = process is not None and process.poll() is None
        return {"pid": self._pid, "running": running, "restarts": self._restarts}

    def _spawn(self) -> subprocess.Popen[str]:
        """A child with its config, loading; it opens the storage and listens once told to go."""
        # no preexec_fn: a fork of a process running gRPC threads warns; the child asks for its death signal itself
        command = [sys.executable, "-m", "backend.query_process.child", str(os.getpid())]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stdin is not None
        with contextlib.suppress(OSError):  # it died at once: _go reads why (its exit status)
            process.stdin.write(json.dumps({"tree": self._tree, "source": self._source}) + "\n")
            process.stdin.flush()
        return process

    def _launch(self) -> tuple[subprocess.Popen[str], dict[str, str], int]:
        process = self._spawn()
        endpoints, pid = self._go(process)
        return process, endpoints, pid

    def _go(self, process: subprocess.Popen[str]) -> tuple[dict[str, str], int]:
        """Tell the child to start serving and wait for its answer: its endpoints and pid, or why it could not."""
        assert process.stdin is not None
        try:
            with contextlib.suppress(OSError):  # a child that died already: its exit status is read below
                process.stdin.write("go\n")
                process.stdin.flush()
            answer = _read_answer(process, START_TIMEOUT_S)
        except RuntimeError as exc:
            _stop(process)
            raise StartError(f"{self._source}: extensions.{QUERY_ID}", str(exc)) from None
        except BaseException:
            _stop(process)
            raise
        if "ready" not in answer:
            _stop(process)
            where, message = str(answer.get("where") or ""), str(answer.get("error"))
            if answer.get("config"):
                raise ConfigError(where, message)
            raise StartError(where or f"{self._source}: extensions.{QUERY_ID}", message)
        return dict(answer["ready"]), int(answer["pid"])

    def _supervise(self) -> None:
        while True:
            process = self._process
            assert process is not None
            code = process.wait()
            if self._stopping.is_set():
                return
            self._report(f"the query process (pid {self._pid}) exited with status {code}; restarting it")
            log.error("the query process (pid %d) exited with status %s; restarting it", self._pid, code)
            wait = BACKOFF_S[0]
            while not self._stopping.is_set():
                try:
                    started = self._launch()
                except Exception as exc:
                    log.error("restarting the query process failed (next try in %.1fs): %s", wait, exc)
                    self._report(f"the query process cannot start: {exc}")
                    self._stopping.wait(wait)
                    wait = min(wait * 2, BACKOFF_S[1])
                    continue
                with self._lock:
                    if self._stopping.is_set():  # shutdown came while it started: it must not stay
                        _stop(started[0])
                        return
                    self._process, self._endpoints, self._pid = started
                    self._restarts += 1
                self._report(None)
                log.warning("the query process runs again as pid %d", self._pid)
                break

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
        self._endpoints = {}


def _read_answer(process: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
    """The child's one-line answer; its exit or silence past ``timeout_s`` is an error."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"the query process did not start within {timeout_s:g}s")
            if selector.select(left):
                line = process.stdout.readline()
                if not line:
                    code = process.wait()
                    raise RuntimeError(f"the query process exited with status {code} before it was ready")
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
