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
from tests.support import reported_service_ports, wait_for

SERVICES = ("customer", "driver", "route", "frontend")


def reported_port(service: str, log: Path) -> int | None:
    return reported_service_ports(log.read_text()).get(service)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The peers first, each on a port of its choosing; then the frontend, told their URLs by HOTROD_*_URL."""
    data_dir = tmp_path_factory.mktemp("hotrod-separate")
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "none",
        "HOTROD_DATA_DIR": str(data_dir),
        "HOTROD_DELAY_SCALE": "0.1",
        **{f"HOTROD_{name.upper()}_PORT": "0" for name in SERVICES},
    }
    processes: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for name in SERVICES:
            log = data_dir / f"{name}.log"
            with log.open("wb") as output:
                processes.append(
                    subprocess.Popen([*HOTROD, name], env=env, cwd=data_dir, stdout=subprocess.DEVNULL, stderr=output)
                )
            port = wait_for(functools.partial(reported_port, name, log), timeout=60, what=f"{name} listening")
            urls[name] = f"http://127.0.0.1:{port}"
            env[f"HOTROD_{name.upper()}_URL"] = urls[name]
        yield urls
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(30) for process in processes]
        logs = {name: (data_dir / f"{name}.log").read_text()[-2000:] for name in SERVICES[: len(processes)]}
        assert codes == [0] * len(processes), logs


def test_the_frontend_reaches_its_peers_by_port(deployment: dict[str, str]) -> None:
    reply = requests.get(f"{deployment['frontend']}/dispatch", params={"customer": 123}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["customer_name"] == "Rachel's Floral Designs"


def test_a_change_on_the_frontend_reaches_the_other_processes(deployment: dict[str, str]) -> None:
    reply = requests.put(f"{deployment['frontend']}/admin/faults", json={"driver_error_rate": 0.0}, timeout=10)
    assert reply.status_code == 200
    for service in ("customer", "driver", "route"):
        assert requests.get(f"{deployment[service]}/admin/faults", timeout=10).json()["driver_error_rate"] == 0.0
