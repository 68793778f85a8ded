"""deploy/examples/tail-sampling.yaml as shipped, in a real ``hotrod backend`` process: errors and slow traces kept."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from backend.processors.tail_sampling.policies import Probabilistic
from backend.processors.tail_sampling.trace import HeldTrace
from tests.backend.conftest import Launcher
from tests.builders import SpanSpec, export_request
from tests.support import wait_for
from tests.tail_sampling.support import ERROR, MS

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "tail-sampling.yaml"
SERVICE = "shop"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    launcher = Launcher(tmp_path_factory.mktemp("tail-example"))
    # as shipped but for decision_wait (10 s there, for HotROD's 5 s export interval): these spans arrive at once
    yield launcher("--config", str(EXAMPLE), "--set", "processors.tail_sampling.decision_wait=2s")
    launcher.close()


def one_trace(trace_id: bytes, duration_ms: int = 20, failing: bool = False) -> list[SpanSpec]:
    root = SpanSpec(SERVICE, "GET /dispatch", trace_id=trace_id, duration_ns=duration_ms * MS)
    child = root.child("driver", "GetDriver", status_code=ERROR if failing else 0)
    return [root, child]


@pytest.fixture(scope="module")
def sent(backend) -> dict[str, set[str]]:
    """Errors, slow and healthy traces sent once; the ids each kind expects to find stored."""
    ids = random.Random(1818)
    errors = [one_trace(ids.randbytes(16), failing=True) for _ in range(5)]
    slow = [one_trace(ids.randbytes(16), duration_ms=2500) for _ in range(3)]
    healthy = [one_trace(ids.randbytes(16)) for _ in range(100)]
    specs = [spec for group in (errors, slow, healthy) for specs in group for spec in specs]
    response = requests.post(
        backend.url("otlp-http", "/v1/traces"),
        data=export_request(specs).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=10,
    )
    response.raise_for_status()
    one_in_ten = Probabilistic("", 10)  # the example's third policy, on the same ids
    every = [t[0].trace_id for group in (errors, slow, healthy) for t in group]
    return {
        "one in ten": {tid.hex() for tid in every if one_in_ten.sample(HeldTrace(tid, 0))},
        "errors": {t[0].trace_id.hex() for t in errors},
        "slow": {t[0].trace_id.hex() for t in slow},
        "healthy kept": {t[0].trace_id.hex() for t in healthy if one_in_ten.sample(HeldTrace(t[0].trace_id, 0))},
    }


def stored(backend) -> set[str]:
    params: dict[str, str | int] = {"service": SERVICE, "limit": 1000, "lookback": "1h"}
    body = requests.get(backend.url("query", "/api/traces"), params=params, timeout=10).json()
    return {trace["traceID"] for trace in body["data"]}


def test_every_error_and_slow_trace_is_kept_and_one_healthy_in_ten(backend, sent) -> None:
    expected = sent["errors"] | sent["slow"] | sent["healthy kept"]
    assert 0 < len(sent["healthy kept"]) < 30
    found = wait_for(lambda: stored(backend) == expected and expected, timeout=40, what="the decisions stored")
    assert found == expected


def test_each_policys_votes_are_on_the_metrics_port_and_the_api(backend, sent) -> None:
    wait_for(lambda: stored(backend), timeout=40, what="the decisions made")
    metrics = requests.get(backend.url("metrics", "/metrics"), timeout=10).text
    errors = 'otelcol_processor_tail_sampling_count_traces_sampled_total{decision="sampled",policy="errors",'
    assert f'{errors}processor="tail_sampling",sampled="true"}} 5.0' in metrics
    [processor] = requests.get(backend.url("query", "/api/tail-sampling"), timeout=10).json()["data"]
    votes = {p["policy"]: (p["sampled"], p["notSampled"]) for p in processor["policies"]}
    assert votes == {
        "errors": (5, 103),
        "slow": (3, 105),
        "one-in-ten": (votes["one-in-ten"][0], 108 - votes["one-in-ten"][0]),
    }
    assert processor["sampled"] == len(sent["errors"] | sent["slow"] | sent["healthy kept"])
    assert processor["notSampled"] == 108 - processor["sampled"]
