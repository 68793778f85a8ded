"""What every extension that serves HTTP shares: one WSGI server, its address, a clean stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.component import Extension, Settings
from backend.core.http_server import Endpoint, HttpServerOptions, start_http
from httpd.wsgi_server import WsgiServer


class HttpExtension(Extension):
    """An extension whose job includes serving one WSGI app at a configured endpoint."""

    _settings: Settings
    _server: WsgiServer | None = None

    def serve(
        self, app: Callable[..., Any], options: HttpServerOptions, what: str, name: str, threads: int
    ) -> WsgiServer:
        """Serve ``app`` at ``http`` of this extension's options; ``what`` the endpoint serves, for errors."""
        endpoint = Endpoint(f"{self._settings.where}.http", f"{self._settings.id} extension ({what})", name)
        self._server = start_http(app, options, endpoint, threads)
        return self._server

    def endpoints(self) -> dict[str, str]:
        return {self._settings.id: self._server.address} if self._server else {}

    def stop_serving(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
