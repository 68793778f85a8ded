"""The sampling scenario's measurement: how many traces per second the backend actually stores, over time.

Drive HotROD at a fixed dispatch rate and this curve shows what sampling does: with adaptive
sampling the stored rate should settle near its target whatever the offered rate.  Every
``interval`` the recorder counts the traces of one service that started in a past window (``lag``
seconds back, so batching and export delays do not look like sampling) through the Jaeger API,
and appends (elapsed seconds, dispatches/s sent, traces/s stored) to a CSV file.  Kept free of
Locust: the demo locustfile runs it in a greenlet and passes in how many dispatches it sent.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

MAX_TRACES_PER_WINDOW = 1500  # the query limit; a window with more is reported as at least this


@dataclass(frozen=True)
class StoredRateSettings:
    query_url: str
    service: str = "frontend"
    interval_s: float = 5.0
    lag_s: float = 5.0


def stored_traces(settings: StoredRateSettings, start_us: int, end_us: int) -> int:
    """Traces of the service with spans starting in [start, end), as the query API finds them."""
    params = {
        "service": settings.service,
        "start": str(start_us),
        "end": str(end_us),
        "limit": str(MAX_TRACES_PER_WINDOW),
    }
    reply = requests.get(f"{settings.query_url.rstrip('/')}/api/traces", params=params, timeout=30)
    reply.raise_for_status()
    return len(reply.json().get("data") or [])


def record(settings: StoredRateSettings, path: Path, sent_so_far: Callable[[], int], stop: threading.Event) -> None:
    """Append one CSV row per interval until ``stop`` is set."""
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    previous_sent, previous_at = sent_so_far(), started
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["elapsed_s", "dispatches_per_s", "stored_traces_per_s", "error"])
        while not stop.wait(settings.interval_s):
            now, sent = time.monotonic(), sent_so_far()
            end_us = (time.time_ns() // 1000) - int(settings.lag_s * 1e6)
            start_us = end_us - int(settings.interval_s * 1e6)
            try:
                stored: float | str = stored_traces(settings, start_us, end_us) / settings.interval_s
                error = ""
            except (requests.RequestException, ValueError) as exc:
                stored, error = "", f"{type(exc).__name__}: {exc}"
            writer.writerow(
                [round(now - started, 1), round((sent - previous_sent) / (now - previous_at), 2), stored, error]
            )
            handle.flush()
            previous_sent, previous_at = sent, now
