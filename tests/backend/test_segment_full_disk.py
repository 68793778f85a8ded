"""The persistent queue's log on a disk that fills up mid-record: the append fails, nothing torn stays behind.

The fault is real: a child process appends under a file-size limit (``RLIMIT_FSIZE``, with ``SIGXFSZ``
ignored), so the kernel writes only the part of a record that fits, as it does on a full disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from backend.extensions.file_storage.segments import Quota, SegmentLog

RECORD = 3000  # payload bytes; the limit fits three records with their headers and part of a fourth
LIMIT = 10_000

APPEND_UNTIL_FULL = f"""
import json, resource, signal, sys
from pathlib import Path
from backend.extensions.file_storage.segments import Quota, SegmentLog

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
log = SegmentLog(Path(sys.argv[1]), "always", 0.1, 1 << 20, Quota(64 << 20))
log.replay()
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
appended, error = [], None
for number in range(6):
    try:
        log.append(bytes([number]) * {RECORD}, 1, 0.0)
    except OSError as exc:
        error = exc.errno
        break
    appended.append(number)
print(json.dumps({{"appended": appended, "error": error}}))
"""


def append_until_full(folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", APPEND_UNTIL_FULL, str(folder)], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def open_log(folder: Path) -> SegmentLog:
    return SegmentLog(folder, "always", 0.1, 1 << 20, Quota(64 << 20))


def test_an_append_the_disk_takes_only_in_part_fails_and_every_append_that_succeeded_is_replayed(tmp_path):
    outcome = append_until_full(tmp_path)

    assert outcome["appended"] == [0, 1, 2]
    assert outcome["error"] is not None
    reopened = open_log(tmp_path)
    replayed = [reopened.read(record)[0] for record in reopened.replay()]
    reopened.close()
    assert replayed == outcome["appended"]


def test_the_segment_ends_where_its_last_whole_record_ends(tmp_path):
    append_until_full(tmp_path)

    (segment,) = tmp_path.glob("*.wal")
    reopened = open_log(tmp_path)
    last = reopened.replay()[-1]
    reopened.close()
    assert segment.stat().st_size == last.offset + last.length  # no part of the failed record after it
