"""A storage outage under load: every trace the backend acknowledged is stored whole afterwards.

The backend runs as users run it (`hotrod backend`, the built-in config: persistent sending queue
on), senders keep sending through the outage and honour the answers they get, and the check reads
every acknowledged trace straight from the storage once the queue has drained.  The outage lasts
HOTROD_FAULT_SECONDS (3 s by default; 20 s for the issue's run).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import requests

from tests.builders import SpanSpec, export_request
from tests.faults.conftest import Target
from tests.faults.load import missing_after_drain, through_a_fault
from tests.faults.servers import hold, outage_seconds
from tests.support import wait_for


def retries(metrics_url: str) -> float:
    text = requests.get(metrics_url, timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("otelcol_exporter_send_retries_total{")
    )


@pytest.mark.timeout(240)
@pytest.mark.parametrize("target", ["sqlite", "postgres", "redis", "clickhouse"], indirect=True)
def test_every_acknowledged_span_is_stored_through_a_storage_outage(target: Target, launcher) -> None:  # noqa: ANN001
    backend = launcher(*target.flags)
    metrics = backend.url("metrics", "/metrics")
    with through_a_fault(backend.url("otlp-http", "/v1/traces"), target) as ledger:
        hold(outage_seconds())
        assert retries(metrics) > 0, "the outage never reached the exporter"

    assert missing_after_drain(f"{target.name} outage {outage_seconds()}s", backend, target, ledger) == []


MEMORY_QUEUE = ("--set", "exporters.jaeger_storage_exporter.sending_queue.storage=''")


def refusal(url: str) -> Mapping[str, str] | None:
    """The headers of a 503 to an export of a throw-away trace (what any sender would get now), else None."""
    body = export_request([SpanSpec("frontend", "probe")]).SerializeToString()
    answer = requests.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=10)
    return answer.headers if answer.status_code == 503 else None


@pytest.mark.timeout(240)
@pytest.mark.parametrize("target", ["sqlite", "redis"], indirect=True)
def test_with_the_queue_in_memory_senders_are_refused_while_the_storage_is_down_and_nothing_is_lost(
    target: Target,
    launcher,  # noqa: ANN001
) -> None:
    """Memory-only is a config choice: held in memory a batch would not outlive the outage any better than at the
    sender, so once the storage is known down the receiver answers 503 with Retry-After instead of 200."""
    backend = launcher(*target.flags, *MEMORY_QUEUE)
    url = backend.url("otlp-http", "/v1/traces")
    with through_a_fault(url, target) as ledger:
        refused = wait_for(lambda: refusal(url), timeout=60, what="a 503 for new data")
        assert int(refused["Retry-After"]) >= 1
        wait_for(lambda: ledger.refusals.get(503), timeout=30, what="the senders refused too")
        hold(outage_seconds())

    missing = missing_after_drain(f"{target.name} outage {outage_seconds()}s, memory queue", backend, target, ledger)
    assert ledger.refusals.get(503, 0) > 0
    assert missing == []
