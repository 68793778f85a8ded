"""Each limit of httpd.limits, one at a time, on a real server on port 0 with short timeouts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from httpd.limits import Limits
from httpd.wsgi_server import WsgiServer
from tests.httpd.test_wsgi_server import echo_thread, read_answers
from tests.support import wait_for

SHORT = 0.3  # seconds: every timeout under test
FAST = {"read_header_timeout": SHORT, "read_timeout": SHORT * 2, "write_timeout": SHORT, "idle_timeout": SHORT}


def big_answer(environ, start_response):  # noqa: ANN001 - WSGI
    body = b"z" * (8 * 1024 * 1024)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [body]


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[str, int]]]:
    servers: list[WsgiServer] = []

    def start(app=echo_thread, threads: int = 0, **limits: Any) -> tuple[str, int]:  # noqa: ANN001
        server = WsgiServer(app, "127.0.0.1", 0, "limits", threads=threads, limits=Limits(**{**FAST, **limits}))
        server.start()
        servers.append(server)
        host, port = server.address.rsplit(":", 1)
        return host, int(port)

    yield start
    for server in servers:
        server.stop(grace=1)


def closed_with(client: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return received


def test_headers_trickled_a_byte_at_a_time_are_cut_off_with_a_408(serve):
    address = serve()
    with socket.create_connection(address, timeout=5) as slow:
        started = time.monotonic()
        slow.sendall(b"GET / HTTP/1.1\r\n")
        answer = b""
        while not answer and time.monotonic() - started < 5:
            try:
                slow.sendall(b"X")  # each byte arrives in time; the headers as a whole do not
            except OSError:
                break
            slow.settimeout(0.05)
            try:
                answer = slow.recv(4096)
            except TimeoutError:
                continue
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < SHORT + 1.5


def test_a_body_that_stops_coming_is_cut_off_with_a_408(serve):
    address = serve()
    with socket.create_connection(address, timeout=5) as slow:
        slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"y" * 10)
        assert closed_with(slow).startswith(b"HTTP/1.1 408 ")


def test_a_silent_connection_is_closed_after_the_header_timeout(serve):
    address = serve()
    with socket.create_connection(address, timeout=5) as silent:
        assert closed_with(silent) == b""


def test_a_kept_alive_connection_is_closed_after_the_idle_timeout(serve):
    address = serve()
    with socket.create_connection(address, timeout=5) as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
        assert read_answers(client, 1) == [b"limits-http 2"]
        assert closed_with(client) == b""


def test_an_answer_the_client_does_not_read_is_dropped_after_the_write_timeout(serve):
    address = serve(big_answer)
    with socket.socket() as lazy:
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lazy.settimeout(5)
        lazy.connect(address)
        lazy.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(SHORT + 1.5)  # not reading is the behaviour under test, so there is no condition to wait for
        received = 0
        try:
            while chunk := lazy.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < 8 * 1024 * 1024


def test_past_the_cap_the_longest_idle_connection_makes_way(serve):
    address = serve(max_connections=3, read_header_timeout=30, read_timeout=30)
    idle = [socket.create_connection(address, timeout=5) for _ in range(3)]
    try:
        url = f"http://{address[0]}:{address[1]}/"
        # refused while the three are new; served once the oldest has been idle a sweep interval
        wait_for(lambda: requests.post(url, data=b"abc", timeout=2).text == "limits-http 3", timeout=5, what="served")
        assert closed_with(idle[0]) == b""
    finally:
        for client in idle:
            client.close()


class Blocking:
    """An app whose requests wait until released: connections that are busy, and known to be."""

    def __init__(self) -> None:
        self.running = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):  # noqa: ANN001 - WSGI
        with self._lock:
            self.running += 1
        self.release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]


def test_past_the_cap_with_none_idle_a_newcomer_gets_a_503(serve):
    app = Blocking()
    address = serve(app, threads=3, max_connections=3)
    busy = [socket.create_connection(address, timeout=5) for _ in range(3)]
    try:
        for client in busy:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: app.running == 3, timeout=5, what="3 requests in progress")
        with socket.create_connection(address, timeout=5) as newcomer:
            answer = closed_with(newcomer)
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert b"Retry-After: 1" in answer
    finally:
        app.release.set()
        for client in busy:
            client.close()


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", b"413"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\n folded: header\r\n\r\n", b"400"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"FFFFFFF\r\n", b"413"),
    ],
    ids=["head-too-large", "body-too-large", "length-and-chunked", "unknown-coding", "two-lengths",
         "negative-length", "folded-header", "tls-hello", "bad-chunk-size", "chunks-too-large"],
)  # fmt: skip
def test_a_malformed_or_oversized_request_gets_a_4xx_or_501_and_the_server_keeps_serving(serve, head, status):
    address = serve(max_request_body_size=1 << 20)
    with socket.create_connection(address, timeout=5) as client:
        client.sendall(head)
        assert closed_with(client).startswith(b"HTTP/1.1 " + status + b" ")
    assert requests.post(f"http://{address[0]}:{address[1]}/", data=b"ok", timeout=2).text == "limits-http 2"


def test_a_chunked_body_is_read_whole(serve):
    address = serve()
    answer = requests.post(f"http://{address[0]}:{address[1]}/", data=iter([b"ab", b"cde", b"f" * 5000]), timeout=2)
    assert answer.text == "limits-http 5005"


def test_expect_100_continue_gets_its_interim_answer_before_the_body(serve):
    address = serve()
    with socket.create_connection(address, timeout=5) as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert client.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.sendall(b"body")
        assert read_answers(client, 1) == [b"limits-http 4"]


def test_a_pool_served_port_answers_while_its_slow_clients_wait(serve):
    address = serve(threads=2, read_header_timeout=30, read_timeout=30)
    slow = [socket.create_connection(address, timeout=5) for _ in range(50)]
    try:
        for client in slow:
            client.sendall(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab")
        answer = requests.post(f"http://{address[0]}:{address[1]}/", data=b"x", timeout=1)
        assert answer.text.endswith(" 1")
    finally:
        for client in slow:
            client.close()
