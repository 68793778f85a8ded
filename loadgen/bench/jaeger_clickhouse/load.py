"""Loading the dataset: requests generated once into a file, then sent as fast as the backend takes them.

The requests are written before the clock starts (generating them in Python
costs more CPU than storing them), as length-prefixed protobuf, and streamed
from that file by ``senders`` threads.  A refusal (429, 503) is retried after
a short pause, so every span is stored and the rate is what the backend
sustains.  The clock stops when the last traces sent can be read back whole.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from loadgen.bench.driver import PROTOBUF
from loadgen.bench.verify import wait_until_stored
from loadgen.tracegen import Tracegen

_LENGTH = struct.Struct(">I")
RETRY_PAUSE_S = 0.05
EXPORT_TIMEOUT_S = 60.0
LAST_TRACES = 20  # the traces whose arrival marks the load as stored


@dataclass(frozen=True)
class Prepared:
    path: Path
    requests: int
    spans: int
    trace_ids: list[bytes]
    spans_per_trace: int
    start_ns: int
    end_ns: int


def prepare(generator: Tracegen, path: Path) -> Prepared:
    count = 0
    with path.open("wb") as out:
        for request in generator.requests():
            body = request.SerializeToString()
            out.write(_LENGTH.pack(len(body)))
            out.write(body)
            count += 1
    shape = generator.shape
    end_ns = generator.start_ns + shape.span_ns
    return Prepared(path, count, shape.spans, generator.trace_ids, shape.children + 1, generator.start_ns, end_ns)


def bodies(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while header := source.read(_LENGTH.size):
            yield source.read(_LENGTH.unpack(header)[0])


@dataclass
class Loaded:
    seconds: float  # first request sent → last traces queryable
    answered_seconds: float  # first request sent → last request answered
    retries: int
    failed: str = ""

    def spans_per_s(self, spans: int) -> float:
        return spans / self.seconds if self.seconds else 0.0


def load(otlp_http: str, query_url: str, prepared: Prepared, senders: int, drain_timeout_s: float) -> Loaded:
    source = bodies(prepared.path)
    lock = threading.Lock()
    retries = 0
    errors: list[str] = []
    url = f"{otlp_http}/v1/traces"

    def sender() -> None:
        nonlocal retries
        with requests.Session() as session:
            while not errors:
                with lock:
                    body = next(source, None)
                if body is None:
                    return
                while True:
                    try:
                        status = session.post(url, data=body, headers=PROTOBUF, timeout=EXPORT_TIMEOUT_S).status_code
                    except requests.RequestException as exc:
                        errors.append(f"export failed: {exc}")
                        return
                    if 200 <= status < 300:
                        break
                    if status not in (429, 503):
                        errors.append(f"export answered HTTP {status}")
                        return
                    with lock:
                        retries += 1
                    time.sleep(RETRY_PAUSE_S)

    started = time.perf_counter()
    threads = [threading.Thread(target=sender, name=f"tracegen-sender-{n}") for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answered = time.perf_counter() - started
    if errors:
        return Loaded(answered, answered, retries, errors[0])
    last = {trace_id.hex(): prepared.spans_per_trace for trace_id in prepared.trace_ids[-LAST_TRACES:]}
    waited = wait_until_stored(query_url, last, drain_timeout_s)
    if waited is None:
        return Loaded(answered, answered, retries, f"the last traces were not queryable within {drain_timeout_s:g}s")
    return Loaded(time.perf_counter() - started, answered, retries)
