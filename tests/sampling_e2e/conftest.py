"""``hotrod all`` with its bundled adaptive sampling tuned per test, and the helpers to read what it decided."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.hotrod.launcher import HotrodAll, start_hotrod_all

TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$")


class SampledHotrod:
    """A running ``hotrod all`` and its remote sampling endpoint."""

    def __init__(self, running: HotrodAll) -> None:
        self.running = running
        self.frontend = running.frontend
        self.query = running.query
        self.sampling = running.url("sampling")

    def served(self, service: str) -> dict:
        reply = requests.get(f"{self.sampling}/api/sampling", params={"service": service}, timeout=10)
        reply.raise_for_status()
        return reply.json()


def trace_of(reply: requests.Response) -> tuple[str, bool]:
    """(trace id, sampled) from the dispatch's W3C ``traceresponse`` header."""
    match = TRACERESPONSE.match(reply.headers["traceresponse"])
    assert match, reply.headers["traceresponse"]
    return match.group(1), bool(int(match.group(2), 16) & 1)


@pytest.fixture
def start_sampled_hotrod(tmp_path: Path) -> Iterator[Callable[..., SampledHotrod]]:
    """``start(*backend_sets, delay_scale=, env=, args=)``: ``hotrod all`` with ``--backend-set`` values.

    Each one is stopped at the end of the test and must exit cleanly.
    """
    started: list[HotrodAll] = []

    def start(
        *backend_sets: str, delay_scale: float = 0.01, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> SampledHotrod:
        options = [f"--delay-scale={delay_scale}", "--skip-check", *args]
        options += [f"--backend-set={value}" for value in backend_sets]
        folder = tmp_path / f"hotrod-{len(started)}"
        folder.mkdir()
        running = start_hotrod_all(folder, *options, env=env)
        started.append(running)
        return SampledHotrod(running)

    yield start
    for running in started:
        assert running.stop() == 0, running.stderr_text()
