"""SQLite's committed writes made durable on demand: one ``fdatasync`` of the ``-wal`` file covers every commit.

The database runs in WAL mode with ``synchronous=NORMAL`` (``schema.py``): a
commit appends its pages to ``<db>-wal`` and returns without a sync, so a
power cut may roll back the last commits (a killed process loses nothing:
the pages are in the OS).  ``FULL`` syncs the WAL at every commit, inside
the writer's transaction; this sync runs when the caller asks, once for as
many commits as it wants covered (the exporter: before the persistent
queue forgets a round of delivered batches).

Why syncing the WAL file alone is enough, from SQLite's WAL design under
``NORMAL``: a checkpoint syncs the WAL before copying its pages into the
database file and syncs the database file once every page is copied; only
then may the WAL be reset and written again from its start (its new header
synced by SQLite).  So a commit is either still in the WAL, or in a
database file that was synced before the WAL let go of it.  The WAL file's
name needs nothing from here either: SQLite syncs a new WAL file's header
and its folder when it first writes to it (seen with strace: one
``fdatasync`` of each, then none for the commits).  No WAL file means no
commit outside the synced database file (the last connection to close
checkpoints the WAL, syncs the database file, then deletes the WAL).
"""

from __future__ import annotations

from pathlib import Path

from backend.core.disk import sync_path


def wal_of(database: Path) -> Path:
    """The WAL file SQLite keeps beside ``database``."""
    return database.with_name(database.name + "-wal")


def sync_wal(wal: Path) -> None:
    """Return once every commit that returned before this call is on disk; raises ``OSError`` if not.

    Any thread may call it: each call syncs through a descriptor of its own.
    """
    try:
        sync_path(wal)
    except FileNotFoundError:
        return
