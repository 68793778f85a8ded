"""The shipped all-in-one (``hotrod backend``, default config: persistent queue, SQLite) syncs SQLite's WAL
before its queue acknowledges a delivered batch.

``tests/backend/test_durable_acks.py`` proves the order on the pipeline's parts in-process; this watches
the real process as users run it, through ``strace`` attached to it: between one acknowledgement written
to the queue's ``.ack`` file and the next, the ``-wal`` file is synced.  (SQLite itself syncs the WAL only
when it creates it and at checkpoints, which three small batches do not reach.)
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from loadgen.synthetic import SyntheticTraces, TraceShape
from tests.support import wait_for

STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed (apt-get install -y strace)")

_QUEUED = re.compile(r"^otelcol_exporter_queue_size\{[^}]*\} (\S+)$", re.M)


def queued(metrics_url: str) -> float | None:
    match = _QUEUED.search(requests.get(metrics_url, timeout=5).text)
    return float(match.group(1)) if match else None


def traced(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^TracerPid:\s+(\d+)", status, re.M).group(1)) != 0


def test_each_acknowledgement_of_the_default_backends_queue_follows_a_sync_of_the_sqlite_wal(start_backend, tmp_path):
    backend = start_backend()  # the built-in config, as `hotrod backend` runs it
    assert backend.process is not None
    trace_file = tmp_path / "syscalls.txt"
    strace = subprocess.Popen(
        [STRACE, "-f", "-y", "-qq", "-e", "trace=write,fdatasync,fsync", "-o", str(trace_file),
         "-p", str(backend.process.pid)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: traced(backend.process.pid), timeout=30, what="strace attached")
        shape = TraceShape(spans_per_trace=5, traces_per_request=2)
        traces = SyntheticTraces(shape, seed=7, base_time_ns=time.time_ns())
        for _ in range(3):  # one batch at a time, each acknowledged before the next is sent
            request, _ = traces.next_request()
            answer = requests.post(
                backend.url("otlp-http", "/v1/traces"), data=request.SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"}, timeout=10,
            )  # fmt: skip
            assert answer.status_code == 200
            wait_for(lambda: queued(backend.url("metrics", "/metrics")) == 0, timeout=30, what="the batch acknowledged")
    finally:
        strace.send_signal(signal.SIGINT)  # detaches; the backend goes on
        strace.wait(timeout=30)

    events = []
    for line in trace_file.read_text().splitlines():
        if re.search(r"\b(fdatasync|fsync)\(\d+<[^>]*/traces\.db-wal>", line):
            events.append("wal sync")
        elif re.search(r"\bwrite\(\d+<[^>]*\.ack>", line):
            events.append("ack")
    acks = [at for at, event in enumerate(events) if event == "ack"]
    assert len(acks) >= 3, events
    for previous, ack in zip(acks, acks[1:], strict=False):
        assert "wal sync" in events[previous:ack], f"an acknowledgement without a WAL sync since the last: {events}"
