"""The benchmark driver's export connection, against a real HTTP server on port 0."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loadgen.bench.driver import OtlpConnection
from tests.support import wait_for


class _ClosesWhenIdle(BaseHTTPRequestHandler):
    """Answers each POST 200 with keep-alive, then closes the connection as a server's idle timeout would."""

    protocol_version = "HTTP/1.1"
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True  # no "Connection: close" was sent: the client still thinks it may reuse it

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ClosesWhenIdle)
        self.closed = threading.Event()  # set once a connection's socket is closed

    def shutdown_request(self, request: object) -> None:
        super().shutdown_request(request)  # type: ignore[arg-type]
        self.closed.set()


@pytest.fixture
def server() -> Iterator[_Server]:
    _ClosesWhenIdle.bodies = []
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_a_keep_alive_connection_the_server_closed_while_idle_is_replaced_not_refused(server: _Server):
    connection = OtlpConnection(f"http://127.0.0.1:{server.server_address[1]}/v1/traces")
    try:
        assert connection.post(b"first") == 200
        wait_for(server.closed.is_set, timeout=10, what="the server to close the idle connection")
        assert connection.post(b"second") == 200
    finally:
        connection.close()
    assert _ClosesWhenIdle.bodies == [b"first", b"second"]
