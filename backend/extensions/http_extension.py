"""What every extension that serves HTTP shares: one WSGI server, its address, a clean stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.component import Extension, Settings
from backend.core.endpoints import parse_endpoint
from httpd.wsgi_server import WsgiServer


class HttpExtension(Extension):
    """An extension whose job includes serving one WSGI app at a configured endpoint."""

    _settings: Settings
    _server: WsgiServer | None = None

    def serve(self, app: Callable[..., Any], endpoint: str, name: str, threads: int) -> WsgiServer:
        address, port = parse_endpoint(endpoint, f"{self._settings.where}.http.endpoint")
        server = WsgiServer(app, address, port, name=name, threads=threads)
        server.start()
        self._server = server
        return server

    def endpoints(self) -> dict[str, str]:
        return {self._settings.id: self._server.address} if self._server else {}

    def stop_serving(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
