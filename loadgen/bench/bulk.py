"""Sending OTLP requests as fast as a collector takes them, for the benchmarks that measure its limit.

``clients`` threads POST the bodies in turn; a refusal (429 or 503: the
collector's queue is full) is retried after a short pause, so everything is
delivered and the rate is what the collector sustains.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterable

from loadgen.bench.driver import OtlpConnection

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
        connection = OtlpConnection(url, EXPORT_TIMEOUT_S)
        try:
            while not errors:
                with lock:
                    body = next(source, None)
                if body is None:
                    return
                while True:
                    try:
                        status = connection.post(body)
                    except (OSError, http.client.HTTPException) as exc:
                        errors.append(f"export failed: {exc}")
                        return
                    if 200 <= status < 300:
                        break
                    if status not in (429, 503):
                        errors.append(f"unexpected HTTP {status}")
                        return
                    with lock:
                        refusals += 1
                    time.sleep(RETRY_PAUSE_S)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, name=f"bulk-sender-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])
    return refusals
