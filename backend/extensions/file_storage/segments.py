"""A write-ahead log of queued batches in segment files: append, read back, acknowledge, replay after a crash.

Each segment ``<first seq>.wal`` is a run of records (header: payload
length, CRC-32, sequence number, arrival time, span count; then the
payload).  Acknowledged sequence numbers are appended to ``<first
seq>.ack``; a segment is deleted once every record in it is acknowledged
and a newer segment takes the appends.  A lost acknowledgement (the process
killed between the storage's commit and the ack write) only means that
batch is delivered again after a restart: storage writes are idempotent.

``fsync``: ``always`` syncs each append before it returns (the receiver's
success answer then survives a power cut), with group commit: appends from
concurrent threads share one ``fdatasync``.  The first appender to find no
sync in progress leads: it syncs everything written so far, outside the
lock so that others keep appending; the others wait for a sync that covers
their record and lead the next one when the current did not.  So N requests
arriving together cost about two syncs, not N, and each still returns only
once its own record is on disk (a caller that is ``collecting`` deferred
waits, backend/core/deferred.py, waits for that after ``append`` returned
and before it answers).  ``interval`` syncs the open
segment every ``fsync_interval`` (a kill -9 loses nothing, a power cut up to
one interval), ``never`` leaves it to the OS.  Acknowledgements are never
synced.  On replay a record cut short or failing its CRC ends the segment:
it was being written when the process died, so nobody was told it was
accepted.
"""

from __future__ import annotations

import errno
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from backend.core.deferred import defer
from backend.core.disk import sync_data, sync_directory

_HEADER = struct.Struct(">IIQdI")  # payload length, crc32 of payload, sequence, arrival (unix s), spans
_SEQ = struct.Struct(">Q")
FSYNC_POLICIES = ("always", "interval", "never")


class QuotaExceeded(Exception):
    """Appending would take the log's files past the disk quota."""


class Quota:
    """Bytes that the segment files of every log of one ``file_storage`` extension may take together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def reserve(self, size: int) -> bool:
        with self._lock:
            if self.used + size > self.limit:
                return False
            self.used += size
            return True

    def release(self, size: int) -> None:
        with self._lock:
            self.used -= size


@dataclass(slots=True)
class Record:
    seq: int
    segment: int  # first sequence number of its segment
    offset: int  # of the payload in the segment file
    length: int
    spans: int
    arrived: float


@dataclass
class _Segment:
    first: int
    size: int = 0
    live: set[int] = field(default_factory=set)


class SegmentLog:
    def __init__(
        self,
        directory: Path,
        fsync: str,
        fsync_interval: float,
        segment_bytes: int,
        quota: Quota,
        sync: Callable[[int], None] = sync_data,
    ) -> None:
        self.directory = directory
        self._fsync = fsync
        self._segment_bytes = segment_bytes
        self._quota = quota
        self._sync = sync  # injectable, so that a test can hold a sync while others append
        self._lock = threading.Lock()
        self._synced_cond = threading.Condition(self._lock)
        self._written = 0  # the last sequence number written to a segment file
        self._synced = 0  # every record up to this sequence number is on disk
        self._syncing = False  # a leader syncs, outside the lock; the fd stays open until it is done
        self.syncs = 0  # data syncs done: group commit shows as fewer syncs than appends
        self._segments: dict[int, _Segment] = {}
        self._current: _Segment | None = None
        self._fd = -1
        self._dirty = False
        self._next_seq = 1
        self._closed = threading.Event()
        self._syncer: threading.Thread | None = None
        if fsync == "interval":
            self._syncer = threading.Thread(target=self._sync_every, args=(fsync_interval,), daemon=True)

    @property
    def survives_power_cut(self) -> bool:
        """Whether appends are synced (``always``, or within ``fsync_interval``): then what the queue forgets must
        be on disk elsewhere first."""
        return self._fsync != "never"

    def _path(self, first: int, suffix: str) -> Path:
        return self.directory / f"{first:020d}.{suffix}"

    def replay(self) -> list[Record]:
        """Open the log: the records not yet acknowledged, oldest first.  Call once, before ``append``."""
        records: list[Record] = []
        for path in sorted(self.directory.glob("*.wal")):
            first = int(path.stem)
            data = path.read_bytes()
            acked = self._acked(first)
            segment = _Segment(first, len(data))
            self._quota.used += len(data)
            for record in _scan(data, first):
                self._next_seq = max(self._next_seq, record.seq + 1)
                if record.seq not in acked:
                    segment.live.add(record.seq)
                    records.append(record)
            self._segments[first] = segment
            if not segment.live:
                self._delete(segment)
        if self._syncer is not None:
            self._syncer.start()
        return records

    def _acked(self, first: int) -> set[int]:
        path = self._path(first, "ack")
        data = path.read_bytes() if path.exists() else b""
        usable = len(data) - len(data) % _SEQ.size  # a half-written last acknowledgement is ignored
        return {seq for (seq,) in _SEQ.iter_unpack(data[:usable])}

    def append(self, payload: bytes, spans: int, arrived: float) -> Record:
        size = _HEADER.size + len(payload)
        if not self._quota.reserve(size):
            raise QuotaExceeded(f"the disk quota of {self._quota.limit >> 20} MiB is used up")
        with self._lock:
            try:
                segment = self._writable()
                seq = self._next_seq
                header = _HEADER.pack(len(payload), zlib.crc32(payload), seq, arrived, spans)
                self._write(header, payload, segment.size)
            except BaseException:
                self._quota.release(size)
                raise
            self._next_seq += 1
            self._written = seq
            record = Record(seq, segment.first, segment.size + _HEADER.size, len(payload), spans, arrived)
            segment.size += size
            segment.live.add(seq)
            self._dirty = True
        if self._fsync == "always":
            defer(partial(self._commit, seq))  # the OTLP/HTTP receiver waits for it off its event loop
        return record

    def _write(self, header: bytes, payload: bytes, at: int) -> None:
        """Both parts in one system call, without joining them first (a copy of a request's size, and fresh
        memory for it); a short write (a full disk) is cut off again, so no torn record stays in the segment."""
        size = len(header) + len(payload)
        written = os.writev(self._fd, (header, payload))
        if written != size:
            os.ftruncate(self._fd, at)  # the file is opened to append: the next record goes here
            raise OSError(errno.ENOSPC, f"only {written} of a record's {size} bytes were written")

    def _commit(self, seq: int) -> None:
        """Return once record ``seq`` is on disk: lead a sync of everything written so far, or wait for one."""
        with self._synced_cond:
            while self._synced < seq:
                if self._syncing:
                    self._synced_cond.wait()
                    continue
                self._sync_written()

    def _sync_written(self) -> None:
        """With the lock held and no sync running: sync all written records, releasing the lock meanwhile."""
        target, fd = self._written, self._fd
        self._syncing = True
        self._dirty = False
        synced = False
        self._lock.release()
        try:
            self._sync(fd)
            synced = True
        finally:
            self._lock.acquire()
            self._syncing = False
            if synced:
                self._synced = max(self._synced, target)
                self.syncs += 1
            else:
                self._dirty = True  # the next leader tries again; this one's caller gets the error
            self._synced_cond.notify_all()

    def _writable(self) -> _Segment:
        """The segment to append to, starting a new one when there is none yet or the current one is full."""
        while True:
            current = self._current
            if current is not None and current.size < self._segment_bytes:
                return current
            if not self._syncing:  # the fd a leader syncs stays open until it is done
                break
            self._synced_cond.wait()
        if current is not None:
            if self._fsync != "never":
                self._sync(self._fd)  # its records' appenders may still wait for a sync of this fd
                self._synced = self._written
                self.syncs += 1
            os.close(self._fd)
            self._fd = -1
            self._current = None
            if not current.live:
                self._delete(current)
        segment = _Segment(self._next_seq)
        self._fd = os.open(self._path(segment.first, "wal"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if self._fsync != "never":
            sync_directory(self.directory)
        self._segments[segment.first] = segment
        self._current = segment
        return segment

    def read(self, record: Record) -> bytes:
        with self._path(record.segment, "wal").open("rb") as file:
            file.seek(record.offset)
            return file.read(record.length)

    def ack(self, records: list[Record]) -> None:
        """The records were delivered: note it, and delete each segment no longer needed."""
        with self._lock:
            by_segment: dict[int, list[int]] = {}
            for record in records:
                by_segment.setdefault(record.segment, []).append(record.seq)
            for first, seqs in by_segment.items():
                segment = self._segments.get(first)
                if segment is None:
                    continue
                segment.live.difference_update(seqs)
                if not segment.live and segment is not self._current:
                    self._delete(segment)
                    continue
                with self._path(first, "ack").open("ab") as file:
                    file.write(b"".join(_SEQ.pack(seq) for seq in seqs))

    def _delete(self, segment: _Segment) -> None:
        self._path(segment.first, "wal").unlink(missing_ok=True)
        self._path(segment.first, "ack").unlink(missing_ok=True)
        self._segments.pop(segment.first, None)
        self._quota.release(segment.size)

    def written(self) -> int:
        """The sequence number of the last record written (synced or not)."""
        return self._written

    def bytes_on_disk(self) -> int:
        return sum(segment.size for segment in list(self._segments.values()))

    def _sync_every(self, interval: float) -> None:
        while not self._closed.wait(interval):
            with self._lock:
                if self._dirty and self._fd >= 0 and not self._syncing:
                    self._sync_written()

    def close(self) -> None:
        self._closed.set()
        if self._syncer is not None and self._syncer.is_alive():
            self._syncer.join()
        with self._synced_cond:
            while self._syncing:
                self._synced_cond.wait()
            if self._fd >= 0:
                if self._fsync != "never":
                    self._sync(self._fd)
                os.close(self._fd)
                self._fd = -1
            current, self._current = self._current, None
            if current is not None and not current.live:
                self._delete(current)


def _scan(data: bytes, first: int) -> list[Record]:
    """The whole records of one segment file; stops at a torn or corrupt one."""
    records = []
    at = 0
    while at + _HEADER.size <= len(data):
        length, crc, seq, arrived, spans = _HEADER.unpack_from(data, at)
        start = at + _HEADER.size
        if start + length > len(data) or zlib.crc32(data[start : start + length]) != crc:
            break
        records.append(Record(seq, first, start, length, spans, arrived))
        at = start + length
    return records
