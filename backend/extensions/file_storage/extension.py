"""The ``file_storage`` extension: a local folder where exporters keep their persistent sending queues.

As the Collector's ``file_storage``: an exporter names it in
``sending_queue.storage`` and gets a write-ahead log of its own in
``<directory>/<exporter id>``, locked so that a second backend started on the
same folder fails at start instead of corrupting the queue.  ``quota_mib``
bounds the disk all queues of this extension take together; past it the
exporters refuse new data (the senders retry) and drop nothing.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.core.binding import ConfigError, Duration, bind, require_at_least_one
from backend.core.component import Extension, ExtensionFactory, Host, Settings
from backend.extensions.file_storage.segments import FSYNC_POLICIES, Quota, SegmentLog


@dataclass
class FileStorageOptions:
    directory: str = "data/queue"
    fsync: str = "always"  # always | interval | never: see segments.py
    fsync_interval: Duration = Duration(100_000_000)
    quota_mib: int = 1024
    segment_mib: int = 8


def _options(raw: Any, where: str) -> FileStorageOptions:
    options = bind(FileStorageOptions, raw, where)
    if options.fsync not in FSYNC_POLICIES:
        raise ConfigError(f"{where}.fsync", f"expected one of {', '.join(FSYNC_POLICIES)}, got {options.fsync!r}")
    if not options.directory:
        raise ConfigError(f"{where}.directory", "expected a folder for the queues")
    require_at_least_one(options, ("fsync_interval", "quota_mib", "segment_mib"), where)
    return options


class FileStorageExtension(Extension):
    start_order = 0

    def __init__(self, settings: Settings, options: FileStorageOptions) -> None:
        self._settings = settings
        self._options = options
        self._quota = Quota(options.quota_mib << 20)
        self._logs: list[tuple[SegmentLog, int]] = []  # with the fd holding its folder's lock

    def start(self, host: Host) -> None:
        directory = Path(self._options.directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{self._settings.where}.directory", f"cannot create {directory}: {exc}") from exc

    def open_log(self, owner: str, where: str) -> SegmentLog:
        """The write-ahead log of component ``owner``; ``where`` locates the reference in errors."""
        options = self._options
        folder = Path(options.directory) / re.sub(r"[^A-Za-z0-9_.-]", "_", owner)
        folder.mkdir(parents=True, exist_ok=True)
        lock = os.open(folder / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            raise ConfigError(where, f"the queue in {folder} is in use by another running backend") from None
        log = SegmentLog(folder, options.fsync, options.fsync_interval / 1e9, options.segment_mib << 20, self._quota)
        self._logs.append((log, lock))
        return log

    def shutdown(self) -> None:
        for log, lock in self._logs:
            log.close()
            os.close(lock)
        self._logs.clear()


def find_file_storage(host: Host, extension_id: str, where: str) -> FileStorageExtension:
    try:
        extension = host.extension(extension_id)
    except KeyError:
        raise ConfigError(where, f"{extension_id!r} is not in service.extensions") from None
    if not isinstance(extension, FileStorageExtension):
        raise ConfigError(where, f"{extension_id!r} is not a file_storage extension")
    return extension


FACTORY = ExtensionFactory("file_storage", _options, FileStorageExtension)
