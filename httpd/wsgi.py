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


def call_app(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    """Run ``app``; an app that raises, or answers without starting a response, is a 500."""
    started: list[Any] = []
    body: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if started and exc_info is None:
            raise AssertionError("start_response called twice without exc_info")
        started[:] = [status, headers]
        body.clear()
        return body.append

    try:
        result = app(environ, start_response)
        try:
            for chunk in result:
                if chunk:
                    body.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not started:
            raise RuntimeError("the app returned without calling start_response")
    except Exception:
        log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
        message = b"internal server error\n"
        return "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")], [message]
    return started[0], started[1], body
