"""One ``hotrod all`` (embedded SQLite and Redis) shared by the tests that only read from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.hotrod.launcher import HotrodAll, start_hotrod_all

# small delays keep the suite quick; the behaviour under test does not depend on their size
FAST = ("--delay-scale=0.2",)


@pytest.fixture(scope="session")
def hotrod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotrodAll]:
    running = start_hotrod_all(tmp_path_factory.mktemp("hotrod-all"), *FAST)
    yield running
    assert running.stop() == 0, running.stderr_text()


@pytest.fixture
def knobs_restored(hotrod: HotrodAll) -> Iterator[dict]:
    """The admin knobs as they were; put back after the test so tests sharing the process stay independent."""
    before = requests.get(f"{hotrod.frontend}/admin/faults", params={"local": "1"}, timeout=10).json()
    yield before
    requests.put(f"{hotrod.frontend}/admin/faults", json=before, timeout=10).raise_for_status()
