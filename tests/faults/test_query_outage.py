"""The query side while the storage is down: Jaeger's error envelope with 503 naming the storage, the health
endpoint saying so, and answers again as soon as the storage is back, without a restart."""

from __future__ import annotations

import pytest
import requests

from tests.faults.conftest import Target
from tests.support import wait_for


@pytest.mark.parametrize("target", ["postgres", "redis"], indirect=True)
def test_queries_answer_503_naming_the_storage_while_it_is_down_then_recover(target: Target, launcher) -> None:  # noqa: ANN001
    backend = launcher(*target.flags)
    assert requests.get(backend.url("query", "/api/services"), timeout=10).status_code == 200
    target.go_down()
    try:
        answer = requests.get(backend.url("query", "/api/services"), timeout=30)
        health = requests.get(backend.url("health", "/status"), timeout=10)
    finally:
        target.come_up()

    assert answer.status_code == 503
    body = answer.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["code"] == 503 and "storage 'main' is unavailable" in error["msg"]
    assert health.status_code == 200  # the process serves and its queue takes data: no restart wanted
    assert health.json()["storage"]["main"]["available"] is False and not health.json()["healthy"]
    wait_for(
        lambda: requests.get(backend.url("query", "/api/services"), timeout=10).status_code == 200,
        timeout=30,
        what="queries answered again",
    )
    assert requests.get(backend.url("health", "/status"), timeout=10).json()["storage"]["main"] == {"available": True}
