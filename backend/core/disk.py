"""Making written bytes survive a power cut: the two syncs the persistent queue and the SQLite storage share.

``sync_data`` is ``fdatasync`` where the OS has it: file contents and the
size needed to read them back, without the timestamps ``fsync`` would add.
A new file's name is only durable once its folder is synced too
(``sync_directory``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def sync_data(fd: int) -> None:
    """Return once the file's contents written so far are on disk (``fdatasync``; ``fsync`` where there is none)."""
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def sync_path(path: Path, sync: Callable[[int], None] = sync_data) -> None:
    """``sync`` through a descriptor of its own on ``path``: any thread may call it while others write."""
    fd = os.open(path, os.O_RDONLY)
    try:
        sync(fd)
    finally:
        os.close(fd)


def sync_directory(directory: Path) -> None:
    """Make the names of files created in ``directory`` durable, not only their contents."""
    sync_path(directory, os.fsync)
