"""Every sampling store behaves the same: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.storage.memory.sampling import MemorySamplingStore
from backend.storage.sampling_store import SamplingStore, Throughput
from backend.storage.sql.sampling import SqlSamplingStore

S = 1_000_000_000


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request, tmp_path: Path) -> Iterator[SamplingStore]:
    if request.param == "memory":
        yield MemorySamplingStore()
    elif request.param == "sqlite":
        made = SqlSamplingStore(f"sqlite:///{tmp_path / 'sampling.db'}")
        yield made
        made.close()
    else:
        engine, schema = request.getfixturevalue("pg_schema")
        yield SqlSamplingStore(engine, schema=schema)


def test_throughput_is_read_back_by_time_window(store: SamplingStore) -> None:
    store.insert_throughput([Throughput("svc", "op", 3, {"0.500000"})], at_ns=10 * S)
    store.insert_throughput([Throughput("svc", "op", 4, {"0.250000"}), Throughput("svc", "b", 0)], at_ns=20 * S)
    window = store.get_throughput(15 * S, 25 * S)
    assert sorted((t.operation, t.count, tuple(t.probabilities)) for t in window) == [
        ("b", 0, ()),
        ("op", 4, ("0.250000",)),
    ]
    assert len(store.get_throughput(0, 30 * S)) == 3
    assert store.get_throughput(20 * S, 21 * S)[0].service == "svc"  # start is inclusive
    assert store.get_throughput(0, 10 * S) == []  # end is exclusive


def test_latest_probabilities_win(store: SamplingStore) -> None:
    assert store.get_latest_probabilities() == {}
    store.insert_probabilities_and_qps("a", {"svc": {"op": 0.5}}, {"svc": {"op": 2.0}}, at_ns=1 * S)
    store.insert_probabilities_and_qps("a", {"svc": {"op": 0.25}}, {"svc": {"op": 4.0}}, at_ns=2 * S)
    assert store.get_latest_probabilities() == {"svc": {"op": 0.25}}


def test_a_lease_has_one_holder_until_it_expires(store: SamplingStore) -> None:
    assert store.acquire_lease("leader", "a", ttl_ns=10 * S, now_ns=0)
    assert not store.acquire_lease("leader", "b", ttl_ns=10 * S, now_ns=5 * S)
    assert store.acquire_lease("leader", "a", ttl_ns=10 * S, now_ns=8 * S)  # renewal extends to 18 s
    assert not store.acquire_lease("leader", "b", ttl_ns=10 * S, now_ns=17 * S)
    assert store.acquire_lease("leader", "b", ttl_ns=10 * S, now_ns=18 * S)
    assert not store.acquire_lease("leader", "a", ttl_ns=10 * S, now_ns=19 * S)


def test_a_forfeited_lease_is_free_at_once(store: SamplingStore) -> None:
    assert store.acquire_lease("leader", "a", ttl_ns=60 * S, now_ns=0)
    assert not store.forfeit_lease("leader", "b")
    assert store.forfeit_lease("leader", "a")
    assert store.acquire_lease("leader", "b", ttl_ns=60 * S, now_ns=1 * S)


def test_purge_keeps_recent_data_and_the_latest_probabilities(store: SamplingStore) -> None:
    store.insert_throughput([Throughput("svc", "op", 1)], at_ns=1 * S)
    store.insert_throughput([Throughput("svc", "op", 2)], at_ns=5 * S)
    store.insert_probabilities_and_qps("a", {"svc": {"op": 0.5}}, {}, at_ns=1 * S)
    store.purge(before_ns=3 * S)
    assert [t.count for t in store.get_throughput(0, 10 * S)] == [2]
    assert store.get_latest_probabilities() == {"svc": {"op": 0.5}}
