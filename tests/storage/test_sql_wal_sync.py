"""The SQLite storage's ``sync``: one sync of the ``-wal`` file, where a ``synchronous=NORMAL`` commit waits.

Syncs are seen by recording ``os.fdatasync`` and ``os.fsync`` (the path
behind each descriptor, from /proc); SQLite's own syncs happen in C and are
not recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.storage.factory import create_storage
from backend.storage.sql.wal_sync import sync_wal, wal_of
from tests.builders import SpanSpec, batch_of


class Syncs:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def recording(self, real: Callable[[int], None]) -> Callable[[int], None]:
        def sync(fd: int) -> None:
            self.paths.append(os.readlink(f"/proc/self/fd/{fd}"))
            real(fd)

        return sync


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> Syncs:
    recorder = Syncs()
    monkeypatch.setattr(os, "fdatasync", recorder.recording(os.fdatasync))
    monkeypatch.setattr(os, "fsync", recorder.recording(os.fsync))
    return recorder


def test_each_sync_after_writes_syncs_the_wal_file_and_nothing_else(tmp_path, syncs):
    storage = create_storage("sql", {"url": f"sqlite:///{tmp_path / 'traces.db'}"}, "tests")
    try:
        writer = storage.writer()
        for _ in range(3):
            writer.write(batch_of([SpanSpec("driver", "op")]))
            writer.sync()
    finally:
        storage.close()

    assert syncs.paths == [str(tmp_path / "traces.db-wal")] * 3


def test_without_a_wal_file_there_is_nothing_to_sync(tmp_path: Path, syncs):
    """The last connection to close checkpoints the WAL into the database file, syncs it and deletes the WAL."""
    storage = create_storage("sql", {"url": f"sqlite:///{tmp_path / 'traces.db'}"}, "tests")
    storage.writer().write(batch_of([SpanSpec("driver", "op")]))
    storage.close()
    assert not wal_of(tmp_path / "traces.db").exists()

    sync_wal(wal_of(tmp_path / "traces.db"))

    assert syncs.paths == []
