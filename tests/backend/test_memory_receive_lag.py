"""The memory store refuses (429) while its receiver falls behind, so senders hear answers within the limit.

A real ``hotrod backend --storage memory`` (its searches run in the ingesting process): heavy searches
over stored spans take the GIL from ingest while senders flood it with OTLP/HTTP.  The sending queue
stays short, so ``max_pending_spans`` never acts; ``max_receive_lag`` does.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from loadgen.bench.driver import OtlpConnection
from tests.backend.clients import span_count
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

LIMIT_S = 0.25  # the default max_receive_lag
SLACK_S = 1.0  # the request's own decoding, the sender's own thread, a busy shared machine
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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, url: str, until: float) -> None:
        connection = OtlpConnection(url)
        try:
            while time.monotonic() < until:
                trace_id, body = trace_body()
                sent = time.monotonic()
                status = connection.post(body)
                took = time.monotonic() - sent
                with self.lock:
                    self.statuses[status] += 1
                    self.slowest_s = max(self.slowest_s, took)
                    if status == 200:
                        self.accepted.append(trace_id)
        finally:
            connection.close()


def search_until(query: str, stop: threading.Event) -> None:
    """Searches that summarize every stored trace of the service: seconds of Python in the backend each."""
    session = requests.Session()
    while not stop.is_set():
        session.get(f"{query}/api/traces", params=SEARCH, timeout=60).raise_for_status()


def stored_whole(query: str, trace_id: str) -> bool:
    return span_count(query, trace_id) == SPANS


def test_a_starved_receiver_refuses_with_429_and_answers_within_the_limit(start_backend):
    backend = start_backend("--storage", "memory")
    ingest, query = backend.url("otlp-http", "/v1/traces"), backend.url("query")
    preload = OtlpConnection(ingest)
    for _ in range(300):  # 30,000 spans for the searches to walk
        assert preload.post(trace_body()[1]) == 200
    preload.close()

    stop = threading.Event()
    searchers = [threading.Thread(target=search_until, args=(query, stop)) for _ in range(SEARCHERS)]
    for thread in searchers:
        thread.start()
    flood = Flood()
    until = time.monotonic() + FLOOD_S
    senders = [threading.Thread(target=flood.send, args=(ingest, until)) for _ in range(SENDERS)]
    try:
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
    finally:
        stop.set()
        for thread in searchers:
            thread.join()

    assert flood.statuses[429] > 0, flood.statuses
    assert set(flood.statuses) == {200, 429}, flood.statuses
    assert flood.slowest_s < LIMIT_S + SLACK_S, flood
    for trace_id in flood.accepted:  # the sending queue writes them behind the answers
        wait_for(functools.partial(stored_whole, query, trace_id), timeout=30, what=f"trace {trace_id} stored whole")
