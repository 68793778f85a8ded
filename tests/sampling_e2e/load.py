"""A scripted load on the HotROD frontend: many requests per second per endpoint, counted per operation.

Threads are paced to a fixed rate each, so that every operation's request rate (and with it the
probability adaptive sampling gives it) stays steady, and cheap endpoints leave the CPU to the
dispatches; a thread that falls behind catches up at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests


@dataclass(frozen=True)
class Endpoint:
    operation: str  # the root span name the frontend gives it
    path: str
    threads: int
    per_second: float = 0.0  # per thread; 0: as fast as it answers


@dataclass
class Load:
    """Threads that each call one endpoint in a loop until ``stop``; ``counts`` per operation."""

    base_url: str
    endpoints: list[Endpoint]
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for endpoint in self.endpoints:
            for index in range(endpoint.threads):
                thread = threading.Thread(target=self._run, args=(endpoint,), name=f"load-{endpoint.path}-{index}")
                thread.start()
                self._threads.append(thread)

    def _run(self, endpoint: Endpoint) -> None:
        pause = 1.0 / endpoint.per_second if endpoint.per_second else 0.0
        due = time.monotonic()
        with requests.Session() as session:
            while not self._stop.wait(max(0.0, due - time.monotonic())):
                due += pause
                reply = session.get(self.base_url + endpoint.path, timeout=30)
                with self._lock:
                    if reply.ok:
                        self.counts[endpoint.operation] += 1
                    else:
                        self.failures.append(f"{endpoint.path}: HTTP {reply.status_code} {reply.text[:200]}")

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
