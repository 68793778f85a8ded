"""The persistent sending queue: every batch is in the ``file_storage`` write-ahead log before ``put`` returns.

So the receiver's success answer comes after the batch is on disk (synced as
the extension's ``fsync`` says), an entry is deleted only after the exporter
delivered it, and whatever was queued when the process stopped, or was
killed, is delivered after the next start.  The batch also stays in memory
while queued, so the normal path never reads the disk back; entries
replayed at start are read and decoded when a consumer takes them.
"""

from __future__ import annotations

import time

from backend.exporters.helper.queue import Entry, MemoryQueue, QueueFull
from backend.extensions.file_storage.segments import QuotaExceeded, Record, SegmentLog
from backend.spans.model import SpanBatch
from backend.streams.span_stream import decode, encode


class PersistentQueue(MemoryQueue):
    persistent = True

    def __init__(self, capacity: int, log: SegmentLog) -> None:
        super().__init__(capacity)
        self._log = log
        self.survives_power_cut = log.survives_power_cut
        self._records: dict[int, Record] = {}
        for record in log.replay():
            self._records[record.seq] = record
            self._make_ready(Entry(record.spans, record.arrived, None, record.seq))
            self._size += record.spans

    def bytes_on_disk(self) -> int:
        return self._log.bytes_on_disk()

    def disk_syncs(self) -> int:
        return self._log.syncs

    def _store(self, batch: SpanBatch) -> Entry:
        now = time.time()
        try:
            record = self._log.append(encode(batch), len(batch), now)
        except QuotaExceeded as exc:
            raise QueueFull(str(exc)) from exc
        self._records[record.seq] = record
        return Entry(record.spans, now, batch, record.seq)

    def load(self, entry: Entry) -> SpanBatch:
        if entry.batch is not None:
            return entry.batch
        return decode(self._log.read(self._records[entry.key]))

    def _forget(self, entries: list[Entry]) -> None:
        self._log.ack([self._records.pop(entry.key) for entry in entries])
