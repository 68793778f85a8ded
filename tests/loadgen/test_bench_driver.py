"""The benchmark driver's export connection and paced query load, against real HTTP servers on port 0."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest

from loadgen.bench.driver import EXPORT_METHOD, GrpcExport, OtlpConnection, QueryLoad
from loadgen.jaeger_queries import QueryPlan
from loadgen.record import SentRecord
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


@pytest.fixture
def refusing_second_export() -> Iterator[tuple[str, list[bytes]]]:
    """A gRPC server on port 0 serving only OTLP's Export: it notes each body and refuses the second call."""
    bodies: list[bytes] = []

    def export(body: bytes, context: grpc.ServicerContext) -> bytes:
        bodies.append(body)
        if len(bodies) == 2:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "full")
        return b""

    service, _, method = EXPORT_METHOD[1:].rpartition("/")
    handler = grpc.unary_unary_rpc_method_handler(export)  # no (de)serializers: bytes in and out
    server = grpc.server(
        ThreadPoolExecutor(1), handlers=[grpc.method_handlers_generic_handler(service, {method: handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", bodies
    server.stop(None).wait()


def test_a_grpc_export_sends_the_prepared_body_as_is_and_names_a_refusal_by_its_status(refusing_second_export):
    target, bodies = refusing_second_export
    export = GrpcExport(target)
    try:
        answers = [export.refusal(b"first"), export.refusal(b"second")]
    finally:
        export.close()
    assert answers == [None, "gRPC RESOURCE_EXHAUSTED"]
    assert bodies == [b"first", b"second"]


class _QueryApi(BaseHTTPRequestHandler):
    """Answers every GET with an empty Jaeger envelope, noting when each arrived and was answered; the first
    answer is held until ``release`` is set."""

    protocol_version = "HTTP/1.1"
    arrivals: list[float] = []
    answers: list[float] = []
    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.arrivals.append(time.perf_counter())
        if len(self.arrivals) == 1:
            self.release.wait(timeout=30)
        body = b'{"data": [], "total": 0, "limit": 0, "offset": 0, "errors": null}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.answers.append(time.perf_counter())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def query_api() -> Iterator[str]:
    _QueryApi.arrivals, _QueryApi.answers, _QueryApi.release = [], [], threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _QueryApi)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _QueryApi.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def query_load(url: str, concurrency: int, rate: float) -> QueryLoad:
    plan = QueryPlan(services=["frontend"], window_start_us=0, window_end_us=10**9, rand=random.Random(1))
    return QueryLoad(url, plan, SentRecord(), concurrency, rate)


def test_the_query_threads_together_ask_no_more_than_their_rate(query_api: str):
    """A closed loop would ask hundreds of times in this while; paced, a thread waits for its slot."""
    _QueryApi.release.set()
    load = query_load(query_api, concurrency=2, rate=20)
    started = time.perf_counter()
    load.start()
    wait_for(lambda: len(_QueryApi.answers) >= 6, timeout=30, what="six queries answered")
    load.stop()
    elapsed = time.perf_counter() - started
    assert len(_QueryApi.arrivals) <= 20 * elapsed + 2
    assert sum(len(values) for values in load.latencies_ms.values()) == len(_QueryApi.answers)


def test_the_slots_a_slow_answer_missed_are_dropped_not_sent_as_a_burst(query_api: str):
    load = query_load(query_api, concurrency=1, rate=20)  # a slot every 50 ms
    load.start()
    wait_for(lambda: len(_QueryApi.arrivals) == 1, timeout=30, what="the first query")
    held_since = time.perf_counter()
    wait_for(lambda: time.perf_counter() - held_since > 0.3, timeout=30, what="six slots missed")
    _QueryApi.release.set()
    wait_for(lambda: len(_QueryApi.arrivals) >= 3, timeout=30, what="two more queries")
    load.stop()
    first_answer, second_asked, third_asked = _QueryApi.answers[0], _QueryApi.arrivals[1], _QueryApi.arrivals[2]
    assert second_asked >= first_answer
    assert third_asked - second_asked >= 0.05 * 0.99, "the missed slots came as a burst"
