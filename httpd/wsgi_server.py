"""One waitress server on its own thread, with a clean stop: every HTTP endpoint of the backend and the services.

Waitress is a production WSGI server (bounded thread pool, request buffering,
no dependencies).  Running its event loop ourselves, one poll at a time,
lets one process host several servers and stop each in order: stop
listening, let requests in progress finish and their answers go out, then
close every connection, all from the loop's own thread (closing sockets under
a running ``select`` from another thread breaks it).

``threads=0`` runs each request on the event loop's own thread instead of
handing it to a pool.  That suits an app that only computes and never waits
(OTLP ingest: decode, queue, answer): under the GIL a pool adds nothing but
hand-offs, two thread wake-ups per request, and serving inline measured
~20% more spans/s on the ingest benchmark with fewer context switches by 10x.
Bodies are still read and answers still written asynchronously, so a slow
client holds up no one.  Waitress takes a task dispatcher through
``create_server(_dispatcher=...)``; ``_LoopTasks`` is one that only queues,
and the loop runs what was queued after each turn.  Its channel never waits
for its output buffer to drain (the one wait waitress's channel can do, above
16 MB of unsent answers): a channel stops reading while it has answers
unsent, and one read (``recv_bytes``) cannot ask for that much.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from waitress import create_server
from waitress.wasyncore import close_all, dispatcher, loop

_SERVING, _DRAINING, _CLOSING = 0, 1, 2


class _LoopTasks:
    """A waitress task dispatcher that leaves each task to the event loop's thread (``threads=0``)."""

    def __init__(self) -> None:
        self._pending: deque[Any] = deque()

    def add_task(self, task: Any) -> None:
        # Called on the loop's thread, sometimes under the channel's lock: only queue here.
        self._pending.append(task)

    def run_pending(self) -> None:
        while self._pending:
            self._pending.popleft().service()

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        """Nothing outlives a loop turn, so nothing to wait for."""
        return True


class WsgiServer:
    def __init__(self, app: Callable[..., Any], host: str, port: int, name: str, threads: int = 4, **adjustments: Any):
        self._app = app
        self._host = host
        self._port = port
        self._name = name
        self._threads = threads
        self._adjustments = adjustments
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._loop_tasks = _LoopTasks() if threads == 0 else None
        self._phase = _SERVING
        self.address = ""

    def start(self) -> None:
        """Bind and listen (raises ``OSError`` when the address is taken); serve on a daemon thread."""
        self._server = create_server(
            self._app,
            _dispatcher=self._loop_tasks,
            host=self._host,
            port=self._port,
            threads=max(self._threads, 1),
            ident=self._name,
            clear_untrusted_proxy_headers=True,
            **self._adjustments,
        )
        self.address = f"{self._server.effective_host}:{self._server.effective_port}"
        self._thread = threading.Thread(
            target=self._serve, args=(self._server,), name=f"{self._name}-http", daemon=True
        )
        self._thread.start()

    def _serve(self, server: Any) -> None:
        listening = True
        while self._phase != _CLOSING:
            if listening and self._phase == _DRAINING:
                dispatcher.close(server)  # the listening socket only; connections stay to answer
                listening = False
            loop(timeout=1.0, map=server._map, use_poll=True, count=1)
            if self._loop_tasks is not None:
                self._loop_tasks.run_pending()
        close_all(server._map)

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests being handled finish and be answered (up to ``grace`` s), close."""
        server = self._server
        if server is None:
            return
        self._server = None
        self._phase = _DRAINING
        server.pull_trigger()
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=grace)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(c.total_outbufs_len for c in list(server.active_channels.values())):
            time.sleep(0.01)
        self._phase = _CLOSING
        # The loop may see _CLOSING on its own and close every socket, the trigger included,
        # before this wake-up lands: a closed trigger means the loop is already done.
        with contextlib.suppress(OSError):
            server.pull_trigger()
        if self._thread is not None:
            self._thread.join(timeout=grace)
