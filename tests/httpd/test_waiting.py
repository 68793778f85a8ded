"""Answers that wait (``httpd.wsgi.BLOCKING``, as OTLP ingest's wait for its disk sync), with ``threads=0``: collected
off the event loop by one thread, a round at a time, each handed back to its own connection."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from httpd.waiting import AnswerCollector, Stopped
from httpd.wsgi_server import WsgiServer
from tests.support import wait_for

CLIENTS = 8


class HeldAnswer:
    """An answer whose collection waits until the app's ``release`` is set, then names the path it answers."""

    httpd_blocking = True

    def __init__(self, app: WaitingApp, path: str) -> None:
        self._app = app
        self._path = path

    def __iter__(self) -> Iterator[bytes]:
        self._app.release.wait(timeout=30)
        self._app.collected_on.add(threading.current_thread().name)
        return iter([self._path.encode()])


class WaitingApp:
    """``/wait/...`` answers with a ``HeldAnswer``; anything else at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.begun = 0  # requests whose app call returned (on the loop)
        self.collected_on: set[str] = set()

    def __call__(self, environ, start_response):  # noqa: ANN001 - WSGI
        start_response("200 OK", [("Content-Type", "text/plain")])
        path = environ["PATH_INFO"]
        if not path.startswith("/wait/"):
            return [b"at once"]
        self.begun += 1
        return HeldAnswer(self, path)


@pytest.fixture
def app() -> Iterator[WaitingApp]:
    waiting = WaitingApp()
    yield waiting
    waiting.release.set()


@pytest.fixture
def server(app: WaitingApp) -> Iterator[WsgiServer]:
    running = WsgiServer(app, "127.0.0.1", 0, "held", threads=0)
    running.start()
    yield running
    running.stop(grace=2)


def test_answers_that_wait_together_are_each_handed_back_to_their_own_connection(app, server):
    answers: dict[int, str] = {}

    def ask(n: int) -> None:
        answers[n] = requests.get(f"http://{server.address}/wait/{n}", timeout=30).text

    clients = [threading.Thread(target=ask, args=(n,)) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    wait_for(lambda: app.begun == CLIENTS, timeout=30, what="every request's answer waiting")
    app.release.set()
    for client in clients:
        client.join(timeout=30)

    assert answers == {n: f"/wait/{n}" for n in range(CLIENTS)}
    assert app.collected_on == {"held-wait"}


def test_while_answers_wait_the_loop_answers_other_requests(app, server):
    waiting = threading.Thread(target=requests.get, args=(f"http://{server.address}/wait/1",), kwargs={"timeout": 30})
    waiting.start()
    wait_for(lambda: app.begun == 1, timeout=30, what="the first answer waiting")

    assert requests.get(f"http://{server.address}/other", timeout=5).text == "at once"
    app.release.set()
    waiting.join(timeout=30)


def test_a_closed_collector_takes_no_more_work():
    loop = asyncio.new_event_loop()
    collector = AnswerCollector(loop, "closed")
    collector.close()
    try:
        with pytest.raises(Stopped):
            collector.submit(lambda: ("200 OK", [], []), lambda answer: None)
    finally:
        loop.close()


def test_a_client_that_shuts_its_sending_side_still_gets_the_answer_that_waited(app, server):
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as client:
        client.sendall(b"GET /wait/half HTTP/1.1\r\nHost: x\r\n\r\n")
        client.shutdown(socket.SHUT_WR)
        wait_for(lambda: app.begun == 1, timeout=30, what="the answer waiting")
        app.release.set()
        received = b""
        while chunk := client.recv(4096):
            received += chunk

    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b"/wait/half")
