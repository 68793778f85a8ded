"""``JaegerRemoteSampler``: an OpenTelemetry SDK sampler that follows a Jaeger remote strategy.

The strategy is polled in a daemon thread, never on a request's path: until
the first answer the sampler keeps ``initial_sampling_rate``, and when the
endpoint is down it keeps the last strategy and retries with a growing delay.
Children follow their parent's decision (parent-based), so only root spans
are decided here; those carry ``sampler.type`` / ``sampler.param`` and, for
probabilistic decisions, the OTel ``th`` threshold in ``tracestate``, so a
collector can count the traffic behind each kept trace exactly.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import requests
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from hotrod.sampling.deciders import DEFAULT_MAX_OPERATIONS, Decider, PerOperation, Probabilistic, adopt
from hotrod.sampling.strategy import StrategyError, parse_strategy
from hotrod.sampling.threshold import with_threshold

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "http://localhost:5778/sampling"
DEFAULT_POLLING_INTERVAL_S = 60.0
DEFAULT_INITIAL_SAMPLING_RATE = 0.001
MAX_BACKOFF_S = 300.0
SAMPLER_TYPE_KEY = "sampler.type"
SAMPLER_PARAM_KEY = "sampler.param"


def strategy_url(endpoint: str) -> str:
    """``endpoint`` as given, or with ``/sampling`` added when it names only a host (``http://host:5778``)."""
    parts = urlsplit(endpoint)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"sampling endpoint {endpoint!r} must look like http://host:5778/sampling")
    if parts.path in ("", "/"):
        parts = parts._replace(path="/sampling")
    return urlunsplit(parts)


class JaegerRemoteSampler(Sampler):
    def __init__(
        self,
        service_name: str,
        endpoint: str = DEFAULT_ENDPOINT,
        polling_interval_s: float = DEFAULT_POLLING_INTERVAL_S,
        initial_sampling_rate: float = DEFAULT_INITIAL_SAMPLING_RATE,
        max_operations: int = DEFAULT_MAX_OPERATIONS,
        request_timeout_s: float = 2.0,
        start: bool = True,
    ) -> None:
        if polling_interval_s <= 0:
            raise ValueError(f"polling interval must be positive, got {polling_interval_s}")
        self.service_name = service_name
        self.url = strategy_url(endpoint)
        self.polling_interval_s = polling_interval_s
        self._max_operations = max_operations
        self._timeout = request_timeout_s
        self._decider: Decider = Probabilistic(initial_sampling_rate)
        self._session = requests.Session()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0  # consecutive failed polls
        self.updates = 0  # strategies adopted so far
        if start:
            self.start()
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=self._restart_after_fork)

    # -- polling -------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll_loop, name=f"jaeger-remote-sampler-{self.service_name}")
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._timeout + 1.0)
        self._session.close()

    def _restart_after_fork(self) -> None:
        self._session = requests.Session()
        self._thread = None
        if not self._stop.is_set():
            self.start()

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self._next_delay())

    def _next_delay(self) -> float:
        if self.failures == 0:
            return self.polling_interval_s
        ceiling = max(self.polling_interval_s, MAX_BACKOFF_S)
        delay = min(ceiling, self.polling_interval_s * 2 ** min(self.failures, 16))
        return delay * random.uniform(0.8, 1.0)

    def poll_once(self) -> bool:
        """Fetch and adopt the strategy once; on any failure keep the current one and say why in the log."""
        try:
            response = self._session.get(self.url, params={"service": self.service_name}, timeout=self._timeout)
            response.raise_for_status()
            strategy = parse_strategy(response.json())
        except (requests.RequestException, ValueError, StrategyError) as exc:
            self.failures += 1
            log.warning(
                "sampling strategy from %s unavailable (attempt %d), keeping the current one: %s",
                self.url,
                self.failures,
                exc,
            )
            return False
        self._decider = adopt(self._decider, strategy, self._max_operations)
        self.failures = 0
        self.updates += 1
        return True

    # -- what the SDK calls ----------------------------------------------------

    def probability_for(self, operation: str) -> float | None:
        """The probability a root span named ``operation`` gets now (None under rate limiting)."""
        decider = self._decider
        if isinstance(decider, PerOperation):
            return decider.rate_for(operation)
        if isinstance(decider, Probabilistic):
            return decider.rate
        return None

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        if parent is not None and parent.is_valid:
            if parent.trace_flags.sampled:
                return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent.trace_state)
            return SamplingResult(Decision.DROP, None, parent.trace_state)
        verdict = self._decider.decide(trace_id, name)
        if not verdict.sampled:
            return SamplingResult(Decision.DROP, None, None)
        tagged = dict(attributes or {})
        tagged[SAMPLER_TYPE_KEY] = verdict.sampler_type
        tagged[SAMPLER_PARAM_KEY] = verdict.param
        state = with_threshold(None, verdict.threshold) if verdict.threshold is not None else None
        return SamplingResult(Decision.RECORD_AND_SAMPLE, tagged, state)

    def get_description(self) -> str:
        return f"JaegerRemoteSampler{{service={self.service_name},endpoint={self.url}}}"
