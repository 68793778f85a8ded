"""One waitress server in a background thread, with a clean stop: what every HTTP endpoint of the backend uses.

Waitress is a production WSGI server (bounded thread pool, request buffering,
no dependencies); running it on our own thread lets one process host several
servers and stop them in a chosen order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from waitress import create_server
from waitress.wasyncore import close_all


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
        self._thread = threading.Thread(target=self._server.run, name=f"{self._name}-http", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{self._server.effective_host}:{self._server.effective_port}"

    def stop(self) -> None:
        """Stop accepting, let requests being handled finish (up to 5 s), then close every connection."""
        server = self._server
        if server is None:
            return
        self._server = None
        socket_map = server._map
        server.close()
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        close_all(socket_map)
        if self._thread is not None:
            self._thread.join(timeout=5)
