"""Several collectors sharing a PostgreSQL sampling store: one leader, the same answers, a handover."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.sampling.adaptive.engine import AdaptiveSampling
from backend.storage.sql.sampling import SqlSamplingStore
from tests.builders import SpanSpec, batch_of
from tests.sampling.adaptive_participant import fast_options
from tests.support import wait_for

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def collectors(pg_schema) -> Iterator[list[AdaptiveSampling]]:
    engine, schema = pg_schema
    started: list[AdaptiveSampling] = []
    for name in ("a", "b"):
        sampling = AdaptiveSampling(fast_options(), SqlSamplingStore(engine, schema=schema), participant=name)
        sampling.start()
        started.append(sampling)
    yield started
    for sampling in started:
        sampling.close()


def one_leader(collectors: list[AdaptiveSampling]) -> AdaptiveSampling | None:
    leaders = [c for c in collectors if c.is_leader()]
    return leaders[0] if len(leaders) == 1 else None


def test_exactly_one_collector_leads(collectors: list[AdaptiveSampling]) -> None:
    wait_for(lambda: one_leader(collectors), timeout=10, what="a single leader")


def test_followers_serve_what_the_leader_computed(collectors: list[AdaptiveSampling]) -> None:
    leader = wait_for(lambda: one_leader(collectors), timeout=10, what="a single leader")
    tagged = {"sampler.type": "probabilistic", "sampler.param": 1.0}
    for collector in collectors:  # each collector sees half of the traffic
        collector.handle_batch(batch_of([SpanSpec("api", "GET /x", attributes=tagged) for _ in range(50)]))

    def served() -> list[dict]:
        return [c.get_strategy("api").to_json() for c in collectors]

    def agreed_and_adapted() -> bool:
        answers = served()
        per_op = answers[0].get("operationSampling", {}).get("perOperationStrategies", [])
        return answers[0] == answers[1] and bool(per_op) and per_op[0]["probabilisticSampling"]["samplingRate"] < 1.0

    wait_for(agreed_and_adapted, timeout=10, what="both collectors to serve the leader's new probability")
    assert leader.post_aggregator.probabilities["api"]["GET /x"] < 1.0


def test_a_leader_that_stops_hands_over(collectors: list[AdaptiveSampling]) -> None:
    leader = wait_for(lambda: one_leader(collectors), timeout=10, what="a single leader")
    other = next(c for c in collectors if c is not leader)
    leader.close()
    wait_for(other.is_leader, timeout=10, what="the other collector to take the lease")


def test_a_killed_leader_loses_the_lease_when_it_expires(pg_schema) -> None:
    engine, schema = pg_schema
    url = engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sampling.adaptive_participant", url, schema],
        stdout=subprocess.PIPE,
        cwd=REPOSITORY,
        text=True,
    )
    survivor = None
    try:
        wait_for(lambda: process.stdout.readline().strip() == "leader", timeout=20, what="the subprocess to lead")
        survivor = AdaptiveSampling(fast_options(), SqlSamplingStore(engine, schema=schema), participant="survivor")
        survivor.start()
        assert not survivor.is_leader()
        process.kill()
        process.wait(timeout=10)
        wait_for(survivor.is_leader, timeout=10, what="the survivor to take the expired lease")
    finally:
        process.kill()
        process.wait(timeout=10)
        if survivor is not None:
            survivor.close()
