"""The memory store refuses (429) while its receiver falls behind, so senders hear answers within the limit.

A real ``hotrod backend --storage memory`` (its searches run in the ingesting process): heavy searches
over stored spans take the GIL from ingest while senders flood it with OTLP/HTTP.  The sending queue
stays short, so ``max_pending_spans`` never acts; ``max_receive_lag`` does.
"""

from __future__ import annotations

import functools
import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from loadgen.bench.driver import PROTOBUF, OtlpConnection
from tests.backend.clients import span_count
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


def trace_body() -> tuple[str, bytes]:
    root = SpanSpec(SERVICE, "GET /dispatch")
    specs = [root, *(root.child(SERVICE, f"step {i}") for i in range(SPANS - 1))]
    return root.trace_id.hex(), export_request(specs).SerializeToString()


@dataclass
class Flood:
    statuses: Counter[int] = field(default_factory=Counter)
    slowest_s: float = 0.0
    accepted: list[str] = field(default_factory=list)
    refusal: tuple[str | None, str] = (None, "")  # the last 429's Retry-After and body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, port: int, until: float) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # keep-alive, as exporters do
        try:
            while time.monotonic() < until:
                trace_id, body = trace_body()
                sent = time.monotonic()
                connection.request("POST", "/v1/traces", body, PROTOBUF)
                response = connection.getresponse()
                answer = response.read()
                took = time.monotonic() - sent
                with self.lock:
                    self.statuses[response.status] += 1
                    self.slowest_s = max(self.slowest_s, took)
                    if response.status == 200:
                        self.accepted.append(trace_id)
                    elif response.status == 429:
                        self.refusal = (response.getheader("Retry-After"), answer.decode(errors="replace"))
        finally:
            connection.close()


def search_until(query: str, stop: threading.Event) -> None:
    """Searches that summarize every stored trace of the service: seconds of Python in the backend each."""
    session = requests.Session()
    while not stop.is_set():
        session.get(f"{query}/api/traces", params=SEARCH, timeout=60).raise_for_status()


def flood_while_searching(port: int, query: str) -> Flood:
    stop = threading.Event()
    searchers = [threading.Thread(target=search_until, args=(query, stop)) for _ in range(SEARCHERS)]
    for thread in searchers:
        thread.start()
    flood = Flood()
    until = time.monotonic() + FLOOD_S
    senders = [threading.Thread(target=flood.send, args=(port, until)) for _ in range(SENDERS)]
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


def test_a_starved_receiver_refuses_with_429_and_answers_within_the_limit(start_backend):
    backend = start_backend("--storage", "memory")
    ingest, query = backend.url("otlp-http", "/v1/traces"), backend.url("query")
    preload = OtlpConnection(ingest)
    for _ in range(300):  # 30,000 spans for the searches to walk
        assert preload.post(trace_body()[1]) == 200
    preload.close()

    flood = flood_while_searching(backend.ports["otlp-http"], query)

    assert flood.statuses[429] > 0, flood.statuses
    retry_after, message = flood.refusal
    assert retry_after == "1"
    assert "max_receive_lag" in message
    assert set(flood.statuses) == {200, 429}, flood.statuses
    assert flood.slowest_s < LIMIT_S + SLACK_S, flood
    for trace_id in flood.accepted:  # the sending queue writes them behind the answers
        wait_for(functools.partial(stored_whole, query, trace_id), timeout=30, what=f"trace {trace_id} stored whole")
