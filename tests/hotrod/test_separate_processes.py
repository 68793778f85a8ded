"""``hotrod frontend|customer|driver|route``: one process each, wired by flags and HOTROD_* env, as in compose."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.hotrod.launcher import HOTROD
from tests.support import free_port, wait_for

SERVICES = ("customer", "driver", "route", "frontend")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("hotrod-separate")
    ports = {name: free_port() for name in SERVICES}
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "none",
        "HOTROD_DATA_DIR": str(data_dir),
        "HOTROD_DELAY_SCALE": "0.1",
        **{f"HOTROD_{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    processes = [
        subprocess.Popen(
            [*HOTROD, name], env=env, cwd=Path(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for name in SERVICES
    ]
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for name, url in urls.items():
            wait_for(functools.partial(healthy, url), timeout=60, what=f"{name} health")
        yield urls
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(30) for process in processes]
        assert codes == [0, 0, 0, 0], [p.stderr.read().decode()[-2000:] for p in processes if p.stderr]


def test_the_frontend_reaches_its_peers_by_port(deployment: dict[str, str]) -> None:
    reply = requests.get(f"{deployment['frontend']}/dispatch", params={"customer": 123}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["customer_name"] == "Rachel's Floral Designs"


def test_a_change_on_the_frontend_reaches_the_other_processes(deployment: dict[str, str]) -> None:
    reply = requests.put(f"{deployment['frontend']}/admin/faults", json={"driver_error_rate": 0.0}, timeout=10)
    assert reply.status_code == 200
    for service in ("customer", "driver", "route"):
        assert requests.get(f"{deployment[service]}/admin/faults", timeout=10).json()["driver_error_rate"] == 0.0


def healthy(url: str) -> bool:
    return requests.get(f"{url}/health", timeout=2).ok
