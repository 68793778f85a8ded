"""The backend's HTTP server with ``threads=0``: requests run on the event loop, I/O stays asynchronous."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from httpd.wsgi_server import WsgiServer


def echo_thread(environ, start_response):  # noqa: ANN001 - WSGI
    body = environ["wsgi.input"].read()
    answer = f"{threading.current_thread().name} {len(body)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
    return [answer]


def read_answers(client: socket.socket, count: int) -> list[bytes]:
    """The bodies of the next ``count`` answers on the connection, read whole."""
    received = b""
    bodies: list[bytes] = []
    while len(bodies) < count:
        head, separator, rest = received.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1)) if separator else -1
        if 0 <= length <= len(rest):
            bodies.append(rest[:length])
            received = rest[length:]
            continue
        chunk = client.recv(4096)
        assert chunk, "the server closed the connection"
        received += chunk
    return bodies


@pytest.fixture
def server() -> Iterator[WsgiServer]:
    running = WsgiServer(echo_thread, "127.0.0.1", 0, "inline", threads=0)
    running.start()
    yield running
    running.stop(grace=2)


def test_requests_are_handled_on_the_event_loop_thread(server):
    response = requests.post(f"http://{server.address}/", data=b"x" * 1000, timeout=5)

    assert response.text == "inline-http 1000"


def test_a_client_sending_its_body_slowly_holds_up_no_one(server):
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as slow:
        slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"y" * 10)

        quick = requests.post(f"http://{server.address}/", data=b"z" * 50, timeout=5)
        assert quick.text == "inline-http 50"

        slow.sendall(b"y" * 90)
        assert read_answers(slow, 1) == [b"inline-http 100"]


def test_pipelined_requests_on_one_connection_are_answered_in_order(server):
    host, port = server.address.rsplit(":", 1)
    requests_ = b"".join(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + b"p" * size for size in (3, 1, 2)
    )
    with socket.create_connection((host, int(port)), timeout=5) as client:
        client.sendall(requests_)
        assert read_answers(client, 3) == [b"inline-http 3", b"inline-http 1", b"inline-http 2"]
