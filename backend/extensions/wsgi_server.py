"""One waitress server on its own thread, with a clean stop: what every HTTP endpoint of the backend uses.

Waitress is a production WSGI server (bounded thread pool, request buffering,
no dependencies).  Running its event loop ourselves, one poll at a time,
lets one process host several servers and stop each in order: stop
listening, let requests in progress finish and their answers go out, then
close every connection, all from the loop's own thread (closing sockets under
a running ``select`` from another thread breaks it).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from waitress import create_server
from waitress.wasyncore import close_all, dispatcher, loop

_SERVING, _DRAINING, _CLOSING = 0, 1, 2


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
        self._phase = _SERVING
        self.address = ""

    def start(self) -> None:
        """Bind and listen (raises ``OSError`` when the address is taken); serve on a daemon thread."""
        self._server = create_server(
            self._app,
            host=self._host,
            port=self._port,
            threads=self._threads,
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
