"""The adaptive sampling loop under load: ``hotrod all`` keeps ~0.75 trace/s per endpoint while serving 20x that.

Short intervals (a calculation every 5 s, services polling every 250 ms) so that the loop converges
within seconds.  Each root operation is held to ±25 % of the target on its own, so the window is
long: at 0.75 trace/s a 45 s window varies by ~17 % from sampling alone, 120 s by ~10 % (and the loop's
feedback, which lowers the probability after a lucky interval, narrows that further).  The
tolerance is 10 % instead of Jaeger's 30 %: with ~5 sampled traces per bucket the weighted rate
varies by ~25 % per calculation, and a 30 % dead band then leaves a probability parked wherever a
noisy calculation put it, up to ~40 % off for the rest of the run.  What remains is a small upward
bias (+5 to +10 % measured): the probability is the target divided by a noisy estimate of the
request rate, and the mean of a reciprocal exceeds the reciprocal of the mean.  Every endpoint is
paced, so that each operation's request rate (and with it its probability) stays steady on a busy
machine; all of ``hotrod all`` shares one interpreter, so the cheap endpoints stay at 18/s to leave
it to the dispatches (on our 2-core machines one interpreter serves ~18 of these dispatches a second,
so the target is 0.75 rather than 1: 20x of it stays within what the machine can serve).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

import requests

from tests.sampling_e2e.conftest import SampledHotrod
from tests.sampling_e2e.load import Endpoint, Load
from tests.support import wait_for

TARGET = 0.75  # traces per second per operation
INTERVAL_S = 5
WINDOW_S = 120
ADAPTIVE = (
    "extensions.jaeger_storage.backends.main={memory: {max_traces: 100000}}",
    f"extensions.remote_sampling.adaptive={{sampling_store: main, target_samples_per_second: {TARGET},"
    f" initial_sampling_probability: 1.0, calculation_interval: {INTERVAL_S}s, calculation_delay: 0s,"
    " calculation_buckets: 10, aggregation_buckets: 10, delta_tolerance: 0.1}",
)
# cheap dispatches: no simulated delays, no driver timeouts, no DB mutex, a wide route pool
CHEAP_DISPATCHES = ("--driver-error-rate=0", "--fix-disable-db-conn-mutex", "--fix-route-worker-pool-size=10")
ENDPOINTS = [
    Endpoint("GET /dispatch", "/dispatch?customer=123", threads=10, per_second=3),
    Endpoint("GET /config", "/config", threads=1, per_second=18),
    Endpoint("GET /", "/", threads=1, per_second=18),
    Endpoint("GET /static/<name>", "/static/app.js", threads=1, per_second=18),
]
OPERATIONS = [endpoint.operation for endpoint in ENDPOINTS]
SEARCH_LIMIT = 1500  # the query API's maximum


class ServedProbabilities:
    """Polls /api/sampling for the frontend and remembers every probability served per operation."""

    def __init__(self, hotrod: SampledHotrod) -> None:
        self._hotrod = hotrod
        self.seen: dict[str, set[float]] = defaultdict(set)
        self.latest: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="served-probabilities")

    def poll(self) -> dict[str, float]:
        strategies = self._hotrod.served("frontend")["operationSampling"]["perOperationStrategies"]
        self.latest = {s["operation"]: s["probabilisticSampling"]["samplingRate"] for s in strategies}
        for operation, probability in self.latest.items():
            self.seen[operation].add(probability)
        return self.latest

    def _run(self) -> None:
        while not self._stop.wait(0.5):  # probabilities change once per calculation interval
            self.poll()

    def __enter__(self) -> ServedProbabilities:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def stored_roots(query: str, operation: str, start_us: int, end_us: int) -> list[dict]:
    """The frontend root spans named ``operation`` that started in the window, with their tags as a dict."""
    params: dict[str, Any] = {
        "service": "frontend",
        "operation": operation,
        "start": start_us,
        "end": end_us,
        "limit": SEARCH_LIMIT,
    }
    reply = requests.get(f"{query}/api/traces", params=params, timeout=60)
    reply.raise_for_status()
    assert len(reply.json()["data"]) < SEARCH_LIMIT, "more traces than one search returns: the window is too long"
    roots = []
    for trace in reply.json()["data"]:
        for span in trace["spans"]:
            if not span["references"] and span["operationName"] == operation and start_us <= span["startTime"] < end_us:
                roots.append({tag["key"]: tag["value"] for tag in span["tags"]})
    return roots


def test_stored_traces_converge_on_the_target_while_requests_run_20x_higher(start_sampled_hotrod) -> None:
    hotrod = start_sampled_hotrod(
        *ADAPTIVE, delay_scale=0.0, env={"OTEL_TRACES_SAMPLER_ARG": "pollingIntervalMs=250"}, args=CHEAP_DISPATCHES
    )
    load = Load(hotrod.frontend, ENDPOINTS)
    load.start()
    try:
        with ServedProbabilities(hotrod) as served:
            wait_for(
                lambda: all(served.poll().get(op, 1.0) < 0.2 for op in OPERATIONS),
                timeout=30,
                interval=0.5,
                what="every operation's probability to fall under load",
            )
            time.sleep(INTERVAL_S)  # one more calculation: the first one saw the load start part-way
            start_us, before = time.time_ns() // 1000, load.snapshot()
            time.sleep(WINDOW_S)  # the measurement itself
            end_us, after = time.time_ns() // 1000, load.snapshot()
    finally:
        load.stop()
    assert not load.failures, load.failures[:5]

    seconds = (end_us - start_us) / 1e6
    counts: dict[str, int] = {}

    def settled() -> bool:  # every service exports every 200 ms; wait until the counts stop growing
        now = {op: len(stored_roots(hotrod.query, op, start_us, end_us)) for op in OPERATIONS}
        stable = now == counts
        counts.update(now)
        return stable

    wait_for(settled, timeout=20, interval=1.0, what="the stored root spans to stop growing")
    request_rates = {op: (after[op] - before[op]) / seconds for op in OPERATIONS}
    stored_rates = {op: counts[op] / seconds for op in OPERATIONS}
    wanted = {op: round(TARGET / rate, 4) for op, rate in request_rates.items() if rate > 0}
    report = f"requests/s {request_rates}, stored traces/s {stored_rates}, served {served.latest}, ideal {wanted}"
    print(report)

    for op in OPERATIONS:
        assert request_rates[op] >= 20 * TARGET, report
        assert 0.75 * TARGET <= stored_rates[op] <= 1.25 * TARGET, report

    # the services apply what the endpoint serves: each stored root names a probability served for its operation
    for op in OPERATIONS:
        roots = stored_roots(hotrod.query, op, start_us, end_us)
        assert {root["sampler.type"] for root in roots} <= {"probabilistic", "lowerbound"}, op
        applied = {root["sampler.param"] for root in roots}
        assert applied <= served.seen[op], (op, applied, served.seen[op])
        assert max(applied) < 0.2, (op, applied)
