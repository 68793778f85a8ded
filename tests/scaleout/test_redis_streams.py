"""Collectors feeding ingesters through a Redis stream: delivery, back-pressure, takeover of a dead ingester's entries.

Each role is an ordinary backend config (in-process here): a collector is
OTLP in → ``redis_streams`` exporter; an ingester is ``redis_streams``
receiver → storage, with the query API on that storage.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
import redis
import requests

from backend.service import BackendService
from backend.streams.span_stream import FIELD, decode
from tests.builders import SpanSpec
from tests.scaleout.streams import collector_config, ingester_config, send
from tests.storage import redis_setup
from tests.support import wait_for


@pytest.fixture
def stream() -> Iterator[str]:
    name = f"{redis_setup.unique_prefix()}:spans"
    yield name
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    client.delete(name)
    client.close()


def stream_length(name: str) -> int:
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    try:
        return client.xlen(name)
    finally:
        client.close()


def span_count(ingester: BackendService, trace_id: bytes) -> int:
    response = requests.get(f"http://{ingester.endpoints['jaeger_query']}/api/traces/{trace_id.hex()}", timeout=5)
    return len(response.json()["data"][0]["spans"]) if response.status_code == 200 else 0


def test_spans_sent_to_a_collector_are_stored_by_an_ingester(stream: str, run):  # noqa: ANN001
    collector = run(collector_config(redis_setup.REDIS_URL, stream, max_len=1000))
    ingester = run(ingester_config(redis_setup.REDIS_URL, stream, "ingester-1", claim_interval="100ms"))
    root = SpanSpec("frontend", "GET /dispatch")

    assert send(collector, root, root.child("driver", "FindNearest")).status_code == 200

    wait_for(lambda: span_count(ingester, root.trace_id) == 2, timeout=10, what="both spans stored by the ingester")


@pytest.mark.parametrize("processors", [(), ("batch",)], ids=["sending queue only", "batch processor in front"])
def test_a_full_stream_makes_the_collector_refuse_with_a_retryable_status_and_lose_nothing(  # noqa: ANN001
    stream: str, run, processors: tuple[str, ...]
):
    collector = run(collector_config(redis_setup.REDIS_URL, stream, tuple(processors), max_len=1))
    assert send(collector, SpanSpec("frontend", "op")).status_code == 200  # the one entry the stream takes
    accepted = 1

    def refused() -> list[requests.Response]:
        nonlocal accepted
        response = send(collector, SpanSpec("frontend", "op"))
        accepted += response.status_code == 200
        return [response] if response.status_code != 200 else []

    [answer] = wait_for(refused, timeout=10, interval=0.01, what="a refusal")  # queued until the exporter finds it full

    assert answer.status_code == 429 and "Retry-After" in answer.headers  # retryable overload, not 200
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    taken = 0  # spans (one per request); a queue may merge several into one entry
    while taken < accepted:  # an ingester's work, by hand: each removal lets the next queued batch in
        entries = wait_for(lambda: client.xrange(stream), timeout=10, what=f"span {taken + 1} of {accepted}")
        client.xdel(stream, *(entry_id for entry_id, _ in entries))
        taken += sum(len(decode(fields[FIELD])) for _, fields in entries)
    client.close()
    assert taken == accepted


def test_entries_left_pending_by_a_dead_ingester_are_claimed_by_another(stream: str, run):  # noqa: ANN001
    collector = run(collector_config(redis_setup.REDIS_URL, stream, max_len=1000))
    root = SpanSpec("frontend", "GET /dispatch")
    assert send(collector, root).status_code == 200
    wait_for(lambda: stream_length(stream) == 1, timeout=10, what="the batch appended from the sending queue")
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    client.xgroup_create(stream, "ingesters", id="0")
    taken = client.xreadgroup("ingesters", "dead-ingester", {stream: ">"}, count=10)  # read, never acknowledged
    client.close()
    assert FIELD in taken[0][1][0][1]

    survivor = run(
        ingester_config(redis_setup.REDIS_URL, stream, "ingester-2", claim_idle="200ms", claim_interval="100ms")
    )

    wait_for(lambda: span_count(survivor, root.trace_id) == 1, timeout=10, what="the dead ingester's entry stored")
    wait_for(lambda: stream_length(stream) == 0, timeout=5, what="the entry acknowledged and removed")


@pytest.mark.parametrize("processors", [[], ["batch"]], ids=["exporter queue only", "batch processor too"])
def test_an_ingester_acknowledges_an_entry_only_once_storage_committed_it(  # noqa: ANN001
    stream: str, run, tmp_path, processors: list[str]
):
    database = tmp_path / "traces.db"
    config = ingester_config(redis_setup.REDIS_URL, stream, "ingester-1", claim_interval="100ms")
    config["extensions"]["jaeger_storage"] = {"backends": {"main": {"sql": {"url": f"sqlite:///{database}"}}}}
    config["service"]["pipelines"]["traces"]["processors"] = processors
    config["processors"] = {name: None for name in processors}
    ingester = run(config)
    lock = sqlite3.connect(database, isolation_level=None, timeout=30)
    lock.execute("BEGIN EXCLUSIVE")  # storage cannot commit
    collector = run(collector_config(redis_setup.REDIS_URL, stream, max_len=1000))
    root = SpanSpec("frontend", "GET /dispatch")
    assert send(collector, root, root.child("driver", "FindNearest")).status_code == 200

    wait_for(lambda: pending(stream) == 1, timeout=10, what="the entry read by the ingester")
    time.sleep(0.5)  # the queues took it long ago; only storage can acknowledge it, and storage is locked
    assert pending(stream) == 1 and stream_length(stream) == 1
    lock.execute("ROLLBACK")
    lock.close()

    wait_for(lambda: stream_length(stream) == 0, timeout=20, what="the entry acknowledged once stored")
    assert span_count(ingester, root.trace_id) == 2


def pending(stream: str) -> int:
    client = redis.Redis.from_url(redis_setup.REDIS_URL)
    try:
        return int(client.xpending(stream, "ingesters")["pending"])
    finally:
        client.close()
