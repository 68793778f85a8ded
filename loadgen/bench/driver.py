"""The benchmark's load: OTLP exports at a fixed offered rate, with Jaeger queries alongside at a fixed pace.

Exports go over OTLP/HTTP (protobuf) or, for a started backend, OTLP/gRPC (``--protocol grpc``): the
receivers differ in how they read and where they decode (an event loop, a pool of threads).

Plain threads rather than a spawned Locust: each step's requests are generated and serialized
*before* its clock starts, then sent on an open-loop schedule (request i leaves at t0 + i/rate,
whatever earlier answers took), so the offered load is exact, a slow backend shows as latency and
lag instead of silently lowering the load, and the generator's own cost stays out of the
measurement.  Locust's closed-loop users and its own process would blur all three; the Locust
users in ``loadgen/otlp_users.py`` remain the tool for open-ended load against any collector.
"""

from __future__ import annotations

import hashlib
import http.client
import select
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import grpc
import requests
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from loadgen.jaeger_queries import QueryPlan, check_answer
from loadgen.record import SentRecord
from loadgen.synthetic import SentTrace, SyntheticTraces

EXPORT_TIMEOUT_S = 30.0
QUERY_TIMEOUT_S = 30.0
QUERY_MIN_AGE_S = 1.0  # ask only for traces accepted this long ago: the backend's batching delay
QUERY_RATE = 10.0  # queries a second during ingest, all query threads together: a few people at the UI
PROTOBUF = {"Content-Type": "application/x-protobuf"}

Prepared = list[tuple[bytes, list[SentTrace]]]
EXPORT_METHOD = "/" + trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name + "/Export"


def prepare(source: SyntheticTraces, spans: int, digest: hashlib._Hash) -> Prepared:
    """Enough serialized requests for ``spans`` spans, fed into ``digest`` (the data set's fingerprint)."""
    prepared: Prepared = []
    total = 0
    while total < spans:
        request, traces = source.next_request()
        body = request.SerializeToString()
        digest.update(body)
        prepared.append((body, traces))
        total += sum(trace.spans for trace in traces)
    return prepared


@dataclass
class IngestResult:
    offered_spans_per_s: float
    seconds: float  # first send to last answer
    sent_spans: int = 0
    accepted_spans: int = 0
    refused_spans: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)

    @property
    def accepted_spans_per_s(self) -> float:
        return self.accepted_spans / self.seconds if self.seconds else 0.0

    @property
    def sent_spans_per_s(self) -> float:
        return self.sent_spans / self.seconds if self.seconds else 0.0


class OtlpConnection:
    """One sender's keep-alive connection for POSTing OTLP/HTTP bodies, on ``http.client`` rather than requests.

    At the benchmark's 100 spans per request, requests cost the driver ~0.85 ms of CPU per request (netrc
    and proxy look-ups, adapters, urllib3's pool) on the same two cores as the backend it measures: ~0.5 of a
    core at 60 k spans/s.  A plain connection does the same exchange for a fraction of that.  As urllib3 does,
    an idle connection the server has closed (its idle timeout) is noticed before reuse and replaced, so a
    slow schedule does not turn into refusals; a request that fails on the wire is not retried (the caller
    counts it refused).
    """

    def __init__(self, url: str, timeout_s: float = EXPORT_TIMEOUT_S) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an http:// URL is needed, not {url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = parts.path or "/"
        self._timeout_s = timeout_s
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> int:
        """POST ``body`` and read the whole answer; its status code.  Raises ``OSError``/``HTTPException``."""
        connection = self._connection
        if connection is not None and _closed_by_peer(connection):
            self.close()
            connection = None
        if connection is None:
            connection = self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)
        try:
            connection.request("POST", self._path, body, PROTOBUF)
            response = connection.getresponse()
            response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status

    def refusal(self, body: bytes) -> str | None:
        """POST ``body``: None when accepted, else why not (``HTTP 429``, or the error on the wire)."""
        try:
            status = self.post(body)
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__
        return None if 200 <= status < 300 else f"HTTP {status}"

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class GrpcExport:
    """One sender's OTLP/gRPC channel, sending the prepared bodies as they are (no second serialization)."""

    def __init__(self, target: str, timeout_s: float = EXPORT_TIMEOUT_S) -> None:
        self._channel = grpc.insecure_channel(target)
        self._export = self._channel.unary_unary(EXPORT_METHOD)
        self._timeout_s = timeout_s

    def refusal(self, body: bytes) -> str | None:
        """Export ``body``: None when accepted, else the call's status (``gRPC RESOURCE_EXHAUSTED`` ...)."""
        try:
            self._export(body, timeout=self._timeout_s)
        except grpc.RpcError as exc:
            return f"gRPC {exc.code().name}"
        return None

    def close(self) -> None:
        self._channel.close()


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that is readable has been closed (or sent what nobody asked for): not reusable."""
    sock = connection.sock
    if sock is None:
        return False
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def send(
    otlp_http: str, prepared: Prepared, spans_per_s: float, senders: int, record: SentRecord, otlp_grpc: str = ""
) -> IngestResult:
    """Send ``prepared`` at ``spans_per_s`` (to ``otlp_grpc``, host:port, when given); every trace lands in
    ``record`` as accepted or refused."""
    spans_per_request = sum(t.spans for t in prepared[0][1]) if prepared else 1
    interval = spans_per_request / spans_per_s
    result = IngestResult(offered_spans_per_s=spans_per_s, seconds=0.0)
    lock = threading.Lock()
    positions = iter(range(len(prepared)))
    url = f"{otlp_http}/v1/traces"
    started = time.perf_counter()

    def sender() -> None:
        connection = GrpcExport(otlp_grpc) if otlp_grpc else OtlpConnection(url)
        try:
            send_from(connection)
        finally:
            connection.close()

    def send_from(connection: GrpcExport | OtlpConnection) -> None:
        while True:
            with lock:
                index = next(positions, None)
            if index is None:
                return
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body, traces = prepared[index]
            spans = sum(t.spans for t in traces)
            sent = time.perf_counter()
            refusal = connection.refusal(body)
            elapsed_ms = (time.perf_counter() - sent) * 1000
            with lock:
                result.sent_spans += spans
                result.latencies_ms.append(elapsed_ms)
                if refusal:
                    result.refused_spans += spans
                    result.refusals[refusal] += 1
                else:
                    result.accepted_spans += spans
                record.add(traces, refusal is None)

    threads = [threading.Thread(target=sender, name=f"bench-sender-{n}") for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


class QueryLoad:
    """Threads running the fixed query mix at a fixed pace until stopped; latencies and wrong answers per kind.

    Paced, as people at the UI ask, not a closed loop: together the threads start at most ``rate`` queries
    a second, each thread waiting for its answer before its next.  A closed loop on the benchmark's two
    cores asked whatever CPU ingest left (60 to 270 queries a second in our runs), so the query process took
    cores from the ingest it ran beside and the query load differed from step to step and machine to machine.
    A query that outlasts its thread's interval is followed at once, the slots it missed are dropped (a
    person does not queue clicks), so a slow backend shows as latency, never as a burst.
    """

    def __init__(
        self, query_url: str, plan: QueryPlan, record: SentRecord, concurrency: int, rate: float = QUERY_RATE
    ) -> None:
        if rate <= 0:
            raise ValueError(f"the query rate must be positive, not {rate}")
        self.query_url = query_url
        self.plan = plan
        self.record = record
        self.concurrency = concurrency
        self.rate = rate
        self.latencies_ms: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, Counter[str]] = defaultdict(Counter)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        started = time.perf_counter()
        self._threads = [
            threading.Thread(target=self._run, args=(started + n / self.rate,), name=f"bench-query-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, first_at: float) -> None:
        session = requests.Session()
        interval = self.concurrency / self.rate  # each thread's share of the pace
        next_at = first_at
        while not self._stop.wait(max(0.0, next_at - time.perf_counter())):
            with self._lock:  # the plan's random generator is shared: keep the mix reproducible
                query = self.plan.next(self.record.sample_trace_id(self.plan.rand, QUERY_MIN_AGE_S))
            started = time.perf_counter()
            try:
                response = session.get(f"{self.query_url}{query.path}", params=query.params, timeout=QUERY_TIMEOUT_S)
                problem = check_answer(query, response.status_code, response.content)
            except requests.RequestException as exc:
                problem = type(exc).__name__
            answered = time.perf_counter()
            with self._lock:
                self.latencies_ms[query.kind].append((answered - started) * 1000)
                if problem:
                    # group by what went wrong, not by which trace it went wrong for
                    self.failures[query.kind][problem.replace(query.trace_id or "\0", "<id>")[:80]] += 1
            next_at = max(next_at + interval, answered)
