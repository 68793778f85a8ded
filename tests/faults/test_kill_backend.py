"""kill -9 of `hotrod backend` mid-load, with a backlog in its persistent queue; restarted in the same folder,
it delivers the backlog: every trace it acknowledged is stored whole, and SQLite's file is intact.

The storage is held down for a moment before the kill, so that the queue on disk has something to
replay (at full speed it is nearly always empty: that would prove nothing).
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.faults.conftest import Target
from tests.faults.load import missing_after_drain, queue_size, through_a_fault
from tests.support import wait_for


@pytest.mark.timeout(240)
@pytest.mark.parametrize("target", ["sqlite", "postgres", "clickhouse"], indirect=True)
def test_nothing_acknowledged_is_lost_when_the_backend_is_killed_and_restarted(target: Target, launcher) -> None:  # noqa: ANN001
    backend = launcher(*target.flags)
    metrics = backend.url("metrics", "/metrics")
    # The restart is in the same folder on the same ports: the senders carry on.
    with through_a_fault(backend.url("otlp-http", "/v1/traces"), target, restart=backend.restart) as ledger:
        wait_for(lambda: queue_size(metrics) >= 200, timeout=30, what="a backlog in the persistent queue")
        backend.process.kill()  # SIGKILL: no drain, no goodbye
        backend.process.wait()
    assert "replaying" in backend.log

    assert missing_after_drain(f"kill -9 hotrod backend ({target.name})", backend, target, ledger) == []
    if target.database is not None:
        assert backend.stop() == 0
        with sqlite3.connect(target.database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
