"""The Jaeger agent's UDP ports: one thread reads datagrams, a few workers decode and hand them on.

UDP has no way to answer, so a bad datagram is only counted (and logged
at debug level) and the server keeps reading.  A datagram larger than
``max_packet_size`` is counted as too large; when the workers fall behind
and the queue is full, datagrams are dropped and counted, as the Jaeger
agent does, rather than blocking the socket reader.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections.abc import Callable

from backend.core.component import Refused
from backend.receivers.jaeger.thrift import decode_datagram, ingest_batch
from backend.receivers.shared.ingest import Ingest
from backend.spans.otlp import InvalidRequest

_POLL_SECONDS = 0.2


class UdpServer:
    def __init__(
        self,
        ingest: Ingest,
        protocol: str,
        host: str,
        port: int,
        max_packet_size: int,
        queue_size: int,
        workers: int,
        log: logging.Logger,
        report: Callable[[str | None], None],
    ) -> None:
        self._ingest = ingest
        self._protocol = protocol
        self._host = host
        self._port = port
        self._max = max_packet_size
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=queue_size)
        self._workers = workers
        self._log = log
        self._report = report
        self._socket: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.address = ""

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self._host, self._port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(_POLL_SECONDS)
        self._socket = sock
        self.address = f"{self._host}:{sock.getsockname()[1]}"
        name = f"jaeger-udp-{self._protocol}"
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-worker", daemon=True) for _ in range(self._workers)
        ]
        self._threads.append(threading.Thread(target=self._read, name=name, daemon=True))
        for thread in self._threads:
            thread.start()

    def _read(self) -> None:
        assert self._socket is not None
        failing = False
        while not self._stopping.is_set():
            try:
                data = self._socket.recv(self._max + 1)
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stopping.is_set():
                    return
                # Keep reading (most socket errors pass), but say so: health turns 503 until a datagram arrives.
                if not failing:
                    self._log.exception("reading %s failed", self.address)
                    self._report(f"reading {self.address}/udp failed: {exc}")
                    failing = True
                self._stopping.wait(_POLL_SECONDS)
                continue
            if failing:
                self._report(None)
                failing = False
            if len(data) > self._max:
                self._ingest.failed("too_large")
                self._log.debug("dropped a datagram larger than %d bytes", self._max)
                continue
            try:
                self._queue.put_nowait(data)
            except queue.Full:
                self._ingest.failed("queue_full")

    def _work(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                ingest_batch(self._ingest, decode_datagram(data, self._protocol))
            except InvalidRequest as exc:
                self._ingest.failed("malformed")
                self._log.debug("dropped a bad datagram: %s", exc)
            except Refused as exc:
                self._log.warning("the pipeline refused a datagram's spans: %s", exc)
            except Exception:
                self._ingest.failed("malformed")
                self._log.exception("a datagram could not be handled")

    def stop(self) -> None:
        """Stop reading, then let the workers finish the datagrams already queued."""
        self._stopping.set()
        reader = self._threads[-1] if self._threads else None
        if reader is not None:
            reader.join()
        for _ in range(self._workers):
            self._queue.put(None)
        for thread in self._threads[:-1]:
            thread.join()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._threads = []
