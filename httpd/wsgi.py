"""One WSGI call (PEP 3333): the environ of a parsed request in, the whole answer out.

The answer is collected before it is written, which lets the server set
Content-Length itself and lets a pool thread hand the event loop one finished
answer.  Every body here (OTLP answers, query JSON, UI assets) is built in
memory by the app anyway.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from httpd.http11 import RequestHead

log = logging.getLogger("httpd")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[str, list[tuple[str, str]], list[bytes]]


def environ_for(
    head: RequestHead, body: bytes, server: tuple[str, str], peer: tuple[str, str], threaded: bool
) -> dict[str, Any]:
    path, _, query = head.target.partition("?")
    if "://" in path:  # absolute-form target: keep the path only
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": head.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1") if "%" in path else path,
        "QUERY_STRING": query,
        "RAW_URI": head.target,
        "SERVER_NAME": server[0],
        "SERVER_PORT": server[1],
        "SERVER_PROTOCOL": f"HTTP/{head.version}",
        "REMOTE_ADDR": peer[0],
        "REMOTE_PORT": peer[1],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": threaded,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(head.headers)
    if head.content_length < 0:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


#: An attribute of the iterable an app returns: true when iterating it waits (for a disk sync, say).  The server
#: then iterates it off the event loop, which meanwhile serves the other connections.
BLOCKING = "httpd_blocking"
_INTERNAL_ERROR: Answer = ("500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")],
                           [b"internal server error\n"])  # fmt: skip


class AppCall:
    """One call of the app in two steps: ``begin`` calls it, ``finish`` collects its answer (the step that may wait).

    An app that raises, or answers without starting a response, is a 500.
    """

    def __init__(self, app: WsgiApp, environ: dict[str, Any]) -> None:
        self._app = app
        self._environ = environ
        self._started: list[Any] = []
        self._body: list[bytes] = []
        self._result: Iterable[bytes] | None = None

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if self._started and exc_info is None:
            raise AssertionError("start_response called twice without exc_info")
        self._started[:] = [status, headers]
        self._body.clear()
        return self._body.append

    def begin(self) -> bool:
        """Call the app; True when collecting its answer waits (``BLOCKING``)."""
        try:
            self._result = self._app(self._environ, self._start_response)
        except Exception:
            self._log_failure()
            return False
        return bool(getattr(self._result, BLOCKING, False))

    def finish(self) -> Answer:
        result = self._result
        if result is None:  # the app raised
            return _INTERNAL_ERROR
        try:
            try:
                for chunk in result:
                    if chunk:
                        self._body.append(chunk)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if not self._started:
                raise RuntimeError("the app returned without calling start_response")
        except Exception:
            self._log_failure()
            return _INTERNAL_ERROR
        return self._started[0], self._started[1], self._body

    def _log_failure(self) -> None:
        log.exception("%s %s failed", self._environ.get("REQUEST_METHOD"), self._environ.get("PATH_INFO"))


def call_app(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    """Run ``app`` and collect its whole answer."""
    call = AppCall(app, environ)
    call.begin()
    return call.finish()
