"""The memory store refuses while its receivers fall behind, so senders hear answers within the limit.

A real ``hotrod backend --storage memory`` (its searches run in the ingesting process): heavy searches
over stored spans take the GIL from ingest while senders flood it, over OTLP/HTTP (decoded on its
event loop), OTLP/gRPC (worker threads) or Zipkin (the legacy HTTP receivers' worker threads).  The
sending queue stays short, so ``max_pending_spans`` never acts; ``max_receive_lag`` does, and each
protocol refuses as it does for a full queue: 429 with ``Retry-After``, or RESOURCE_EXHAUSTED with
retry info.
"""

from __future__ import annotations

import functools
import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import pytest
import requests
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status

from backend.receivers.otlp.grpc_ingest import SERVICE as OTLP_GRPC
from loadgen.bench.driver import PROTOBUF, OtlpConnection
from tests.backend.clients import span_count
from tests.backend.conftest import BackendProcess
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

LIMIT_S = 0.25  # the default max_receive_lag
SLACK_S = 1.5  # own decoding, the sender's thread, a machine shared with other work (load 5-15)
SPANS = 100  # per request, one trace each
SENDERS = 16
SEARCHERS = 3
FLOOD_S = 6.0
SERVICE = "lagged"
# a tag no span has: every stored span of the service is decoded and tested, and 1,500 is the API's largest limit
SEARCH = {"service": SERVICE, "tags": '{"absent": "x"}', "limit": "1500", "lookback": "1h"}


@dataclass
class Answer:
    outcome: str  # "accepted", "refused" (overloaded), or what else the protocol said
    retry_after_s: float | None = None  # the refusal's hint
    message: str = ""


#: one sender's connection: sends a trace of SPANS spans, returns its id and the answer
Send = Callable[[], tuple[str, Answer]]


def trace_specs() -> list[SpanSpec]:
    root = SpanSpec(SERVICE, "GET /dispatch")
    return [root, *(root.child(SERVICE, f"step {i}") for i in range(SPANS - 1))]


def otlp_body() -> tuple[str, bytes]:
    specs = trace_specs()
    return specs[0].trace_id.hex(), export_request(specs).SerializeToString()


def zipkin_body() -> tuple[str, bytes]:
    specs = trace_specs()
    spans = [
        {
            "traceId": spec.trace_id.hex(),
            "id": spec.span_id.hex(),
            **({"parentId": spec.parent.span_id.hex()} if spec.parent else {}),
            "name": spec.name,
            "timestamp": spec.start_ns // 1000,
            "duration": spec.duration_ns // 1000,
            "localEndpoint": {"serviceName": spec.service},
        }
        for spec in specs
    ]
    return specs[0].trace_id.hex(), json.dumps(spans).encode()


def http_sender(port: int, path: str, content_type: str, body: Callable[[], tuple[str, bytes]]) -> Send:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # keep-alive, as exporters do

    def send() -> tuple[str, Answer]:
        trace_id, data = body()
        connection.request("POST", path, data, {"Content-Type": content_type})
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        if response.status in (200, 202):
            return trace_id, Answer("accepted")
        if response.status == 429:
            return trace_id, Answer("refused", float(response.getheader("Retry-After", "nan")), text)
        return trace_id, Answer(str(response.status), message=text)

    return send


def otlp_http(backend: BackendProcess) -> Send:
    return http_sender(backend.ports["otlp-http"], "/v1/traces", PROTOBUF["Content-Type"], otlp_body)


def zipkin(backend: BackendProcess) -> Send:
    return http_sender(backend.ports["zipkin"], "/api/v2/spans", "application/json", zipkin_body)


def otlp_grpc(backend: BackendProcess) -> Send:
    export = grpc.insecure_channel(backend.grpc_target).unary_unary(f"/{OTLP_GRPC}/Export")  # one channel a sender

    def send() -> tuple[str, Answer]:
        trace_id, data = otlp_body()
        try:
            export(data, timeout=30)
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED:
                return trace_id, Answer(exc.code().name, message=exc.details())
            return trace_id, Answer("refused", retry_delay_s(exc), exc.details())
        return trace_id, Answer("accepted")

    return send


def retry_delay_s(error: grpc.RpcError) -> float | None:
    """The ``google.rpc.RetryInfo`` delay in the call's status details, as OTLP exporters read it."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in Status.FromString(value).details:
                info = RetryInfo()
                if detail.Unpack(info):
                    return info.retry_delay.ToNanoseconds() / 1e9
    return None


@dataclass
class Flood:
    outcomes: Counter[str] = field(default_factory=Counter)
    slowest_s: float = 0.0
    accepted: list[str] = field(default_factory=list)
    refusal: Answer | None = None  # the last one
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, connect: Callable[[], Send], until: float) -> None:
        send = connect()
        while time.monotonic() < until:
            sent = time.monotonic()
            trace_id, answer = send()
            took = time.monotonic() - sent
            with self.lock:
                self.outcomes[answer.outcome] += 1
                self.slowest_s = max(self.slowest_s, took)
                if answer.outcome == "accepted":
                    self.accepted.append(trace_id)
                elif answer.outcome == "refused":
                    self.refusal = answer


def search_until(query: str, stop: threading.Event) -> None:
    """Searches that summarize every stored trace of the service: seconds of Python in the backend each."""
    session = requests.Session()
    while not stop.is_set():
        session.get(f"{query}/api/traces", params=SEARCH, timeout=60).raise_for_status()


def flood_while_searching(connect: Callable[[], Send], query: str) -> Flood:
    stop = threading.Event()
    searchers = [threading.Thread(target=search_until, args=(query, stop)) for _ in range(SEARCHERS)]
    for thread in searchers:
        thread.start()
    flood = Flood()
    until = time.monotonic() + FLOOD_S
    senders = [threading.Thread(target=flood.send, args=(connect, until)) for _ in range(SENDERS)]
    try:
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
    finally:
        stop.set()
        for thread in searchers:
            thread.join()
    return flood


def stored_whole(query: str, trace_id: str) -> bool:
    return span_count(query, trace_id) == SPANS


@pytest.mark.parametrize("protocol", [otlp_http, otlp_grpc, zipkin], ids=["otlp-http", "otlp-grpc", "zipkin"])
def test_a_starved_receiver_refuses_as_overloaded_with_a_retry_hint_and_answers_within_the_limit(
    start_backend, protocol
):
    backend = start_backend("--storage", "memory")
    query = backend.url("query")
    preload = OtlpConnection(backend.url("otlp-http", "/v1/traces"))
    for _ in range(300):  # 30,000 spans for the searches to walk
        assert preload.post(otlp_body()[1]) == 200
    preload.close()

    flood = flood_while_searching(functools.partial(protocol, backend), query)

    assert flood.outcomes["refused"] > 0, flood.outcomes
    assert flood.refusal is not None
    assert flood.refusal.retry_after_s == 1.0  # the sending queue's retry_after, as a full queue's refusal
    assert "max_receive_lag" in flood.refusal.message
    assert set(flood.outcomes) == {"accepted", "refused"}, flood.outcomes
    assert flood.slowest_s < LIMIT_S + SLACK_S, flood
    for trace_id in flood.accepted:  # the sending queue writes them behind the answers
        wait_for(functools.partial(stored_whole, query, trace_id), timeout=30, what=f"trace {trace_id} stored whole")
