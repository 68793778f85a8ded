"""Sending OTLP requests as fast as a collector takes them, for the benchmarks that measure its limit.

``clients`` threads POST the bodies in turn; a refusal (429 or 503: the
collector's queue is full) is retried after a short pause, so everything is
delivered and the rate is what the collector sustains.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import requests

from loadgen.bench.driver import PROTOBUF

RETRY_PAUSE_S = 0.02
EXPORT_TIMEOUT_S = 60.0


def send_all(url: str, bodies: Iterable[bytes], clients: int) -> int:
    """POST every body to ``url`` (retrying refusals); returns how many refusals were retried.

    Any other answer, or a failed connection, stops the senders and raises ``RuntimeError``.
    """
    source = iter(bodies)
    lock = threading.Lock()
    refusals = 0
    errors: list[str] = []

    def client() -> None:
        nonlocal refusals
        with requests.Session() as session:
            while not errors:
                with lock:
                    body = next(source, None)
                if body is None:
                    return
                while True:
                    try:
                        response = session.post(url, data=body, headers=PROTOBUF, timeout=EXPORT_TIMEOUT_S)
                    except requests.RequestException as exc:
                        errors.append(f"export failed: {exc}")
                        return
                    if 200 <= response.status_code < 300:
                        break
                    if response.status_code not in (429, 503):
                        errors.append(f"unexpected HTTP {response.status_code}: {response.text[:200]}")
                        return
                    with lock:
                        refusals += 1
                    time.sleep(RETRY_PAUSE_S)

    threads = [threading.Thread(target=client, name=f"bulk-sender-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])
    return refusals
