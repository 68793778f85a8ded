"""The MCP server as part of the query port's WSGI app, at ``/api/ai/mcp``.

The SDK serves streamable HTTP as an ASGI app whose session manager must run
for as long as requests come.  Here it runs on an event loop of its own, on
one daemon thread, and ``a2wsgi`` hands it each WSGI request on that loop, so
the query port keeps one HTTP server (httpd/) for the API, the UI and MCP.
The endpoint is stateless with JSON answers (no session to keep, no stream
held open across requests): every call is one POST and its answer, which any
MCP client over streamable HTTP handles.  Tools run on the SDK's worker
threads, so a slow storage read holds up only its own call.

Bound to a loopback address, the SDK's DNS-rebinding protection is on: a
request whose ``Host`` or ``Origin`` names another host is refused.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from a2wsgi import ASGIMiddleware
from mcp.server.mcpserver import MCPServer

PATH = "/api/ai/mcp"


class McpEndpoint:
    def __init__(self, server: MCPServer, bind_host: str) -> None:
        # The SDK logs every request and every refused tool call at INFO; the backend's log keeps its warnings.
        logging.getLogger("mcp").setLevel(logging.WARNING)
        # Builds the session manager; the Starlette app around it is not needed (it only routes one path).
        server.streamable_http_app(
            streamable_http_path=PATH,
            json_response=True,
            stateless_http=True,
            host=bind_host,  # the SDK turns DNS-rebinding protection on for a loopback host
        )
        self._manager = server.session_manager
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mcp-loop", daemon=True)
        self._stop: asyncio.Event | None = None
        self._running: Future[None] | None = None

    def start(self, timeout: float = 10.0) -> Callable[..., Any]:
        """Run the session manager; the WSGI app that hands requests to it."""
        self._thread.start()
        started: Future[None] = Future()
        self._running = asyncio.run_coroutine_threadsafe(self._serve(started), self._loop)
        started.result(timeout)
        return ASGIMiddleware(self._manager.handle_request, loop=self._loop)  # type: ignore[arg-type]

    async def _serve(self, started: Future[None]) -> None:
        self._stop = asyncio.Event()
        async with self._manager.run():
            started.set_result(None)
            await self._stop.wait()

    def stop(self, timeout: float = 5.0) -> None:
        if self._running is None:
            return
        stop = self._stop
        if stop is not None:
            self._loop.call_soon_threadsafe(stop.set)
        try:
            self._running.result(timeout)
        finally:
            self._running = None
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            self._loop.close()
