"""The Jaeger remote sampler inside the real OpenTelemetry SDK, against a strategy server we steer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from hotrod.sampling import JaegerRemoteSampler
from tests.sampling.conftest import StrategyServer
from tests.support import wait_for


class Traced:
    """An SDK tracer provider using ``sampler``, keeping finished spans in memory."""

    def __init__(self, sampler: JaegerRemoteSampler) -> None:
        self.sampler = sampler
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(sampler=sampler, shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("test")

    def roots(self, name: str, count: int) -> list:
        for _ in range(count):
            with self.tracer.start_as_current_span(name):
                pass
        return [s for s in self.exporter.get_finished_spans() if s.name == name]


@pytest.fixture
def traced(request) -> Iterator[Callable[..., Traced]]:
    made: list[Traced] = []

    def make(url: str, initial: float = 0.0, interval: float = 0.05) -> Traced:
        sampler = JaegerRemoteSampler("svc", endpoint=url, polling_interval_s=interval, initial_sampling_rate=initial)
        made.append(Traced(sampler))
        return made[-1]

    yield make
    for t in made:
        t.sampler.close()
        t.provider.shutdown()


def adopted(t: Traced, count: int = 1) -> None:
    wait_for(lambda: t.sampler.updates >= count, timeout=10, what="the sampler to adopt a strategy")


def test_initial_rate_applies_until_the_endpoint_answers(traced, refusing_port: int) -> None:
    t = traced(f"http://127.0.0.1:{refusing_port}/sampling", initial=1.0)
    wait_for(lambda: t.sampler.failures >= 1, timeout=10, what="a failed poll")
    assert len(t.roots("op", 20)) == 20


def test_polls_with_the_service_name(traced, strategy_server: StrategyServer) -> None:
    t = traced(strategy_server.url)
    adopted(t)
    assert strategy_server.services[0] == "svc"


def test_probabilistic_strategy_sets_rate_tags_and_threshold(traced, strategy_server: StrategyServer) -> None:
    strategy_server.strategy = {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}}
    t = traced(strategy_server.url)
    adopted(t)
    kept = t.roots("op", 2000)
    assert 850 <= len(kept) <= 1150  # binomial(2000, 0.5): ±6.7 sigma
    span = kept[0]
    assert span.attributes["sampler.type"] == "probabilistic"
    assert span.attributes["sampler.param"] == 0.5
    assert span.context.trace_state.get("ot") == "th:8"


def test_kept_roots_are_exactly_those_above_the_threshold(traced, strategy_server: StrategyServer) -> None:
    strategy_server.strategy = {"strategyType": 0, "probabilisticSampling": {"samplingRate": 0.25}}
    t = traced(strategy_server.url)
    adopted(t)
    for span in t.roots("op", 300):
        assert span.context.trace_id & ((1 << 56) - 1) >= 3 << 54
        assert span.context.trace_state.get("ot") == "th:c"


def test_probability_zero_keeps_nothing(traced, strategy_server: StrategyServer) -> None:
    strategy_server.strategy = {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.0}}
    t = traced(strategy_server.url, initial=1.0)
    adopted(t)
    assert t.roots("op", 200) == []


def test_rate_limiting_keeps_the_burst_allowance_then_stops(traced, strategy_server: StrategyServer) -> None:
    strategy_server.strategy = {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 2}}
    t = traced(strategy_server.url, interval=60)
    adopted(t)
    kept = t.roots("op", 100)
    assert 2 <= len(kept) <= 3  # a full bucket of 2, plus at most one credit earned meanwhile
    assert kept[0].attributes["sampler.type"] == "ratelimiting"
    assert kept[0].attributes["sampler.param"] == 2
    assert kept[0].context.trace_state.get("ot") is None


PER_OPERATION = {
    "strategyType": "PROBABILISTIC",
    "probabilisticSampling": {"samplingRate": 1.0},
    "operationSampling": {
        "defaultSamplingProbability": 1.0,
        "defaultLowerBoundTracesPerSecond": 0.0,
        "perOperationStrategies": [
            {"operation": "always", "probabilisticSampling": {"samplingRate": 1.0}},
            {"operation": "never", "probabilisticSampling": {"samplingRate": 0.0}},
        ],
    },
}


def test_per_operation_probabilities_apply_by_span_name(traced, strategy_server: StrategyServer) -> None:
    strategy_server.strategy = PER_OPERATION
    t = traced(strategy_server.url, interval=60)
    adopted(t)
    assert len(t.roots("always", 50)) == 50
    assert len(t.roots("unlisted", 50)) == 50  # the default probability
    assert t.sampler.probability_for("never") == 0.0


def test_lower_bound_keeps_the_first_trace_of_a_starved_operation(traced, strategy_server: StrategyServer) -> None:
    strategy_server.strategy = PER_OPERATION
    t = traced(strategy_server.url, interval=60)
    adopted(t)
    kept = t.roots("never", 50)
    assert len(kept) == 1
    assert kept[0].attributes["sampler.type"] == "lowerbound"
    assert kept[0].attributes["sampler.param"] == 0.0  # the operation's probability
    assert kept[0].context.trace_state.get("ot") is None


def test_an_unlisted_operation_keeps_its_spent_lower_bound_across_polls(
    traced, strategy_server: StrategyServer
) -> None:
    strategy_server.strategy = {
        "strategyType": "PROBABILISTIC",
        "probabilisticSampling": {"samplingRate": 0.0},
        "operationSampling": {
            "defaultSamplingProbability": 0.0,
            "defaultLowerBoundTracesPerSecond": 0.0,
            "perOperationStrategies": [],
        },
    }
    t = traced(strategy_server.url, interval=0.05)
    adopted(t)
    assert len(t.roots("unlisted", 1)) == 1  # the first trace of a new operation
    updates = t.sampler.updates
    adopted(t, updates + 3)
    assert len(t.roots("unlisted", 20)) == 1  # polls do not hand out another first trace


def _under_parent(t: Traced, sampled: bool) -> list:
    parent = SpanContext(
        trace_id=0x1234,
        span_id=0x99,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT),
    )
    ctx = trace.set_span_in_context(NonRecordingSpan(parent))
    with t.tracer.start_as_current_span("child", context=ctx):
        pass
    return [s for s in t.exporter.get_finished_spans() if s.name == "child"]


def test_child_of_a_sampled_parent_is_sampled_whatever_the_strategy(traced, strategy_server: StrategyServer) -> None:
    strategy_server.strategy = {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.0}}
    t = traced(strategy_server.url)
    adopted(t)
    children = _under_parent(t, sampled=True)
    assert len(children) == 1
    assert "sampler.type" not in children[0].attributes


def test_child_of_an_unsampled_parent_is_dropped_whatever_the_strategy(traced, strategy_server: StrategyServer) -> None:
    t = traced(strategy_server.url)
    adopted(t)
    assert _under_parent(t, sampled=False) == []


def test_failed_polls_keep_the_last_strategy_and_back_off(traced, strategy_server: StrategyServer) -> None:
    t = traced(strategy_server.url)
    adopted(t)
    strategy_server.status = 503
    wait_for(lambda: t.sampler.failures >= 2, timeout=10, what="failed polls")
    assert t.sampler.probability_for("op") == 1.0
    assert t.sampler._next_delay() > t.sampler.polling_interval_s
    strategy_server.status = 200
    strategy_server.strategy = {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}}
    assert t.sampler.poll_once()
    assert t.sampler.failures == 0
    assert t.sampler.probability_for("op") == 0.5


def test_malformed_strategy_is_refused(traced, strategy_server: StrategyServer) -> None:
    t = traced(strategy_server.url, interval=60)
    adopted(t)
    strategy_server.strategy = {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 7}}
    assert not t.sampler.poll_once()
    assert t.sampler.probability_for("op") == 1.0


def test_a_slow_endpoint_never_delays_span_creation(traced, strategy_server: StrategyServer) -> None:
    strategy_server.release.clear()
    t = traced(strategy_server.url, initial=1.0)
    assert len(t.roots("op", 20)) == 20  # decided by the initial rate while the poll is held
    assert t.sampler.updates == 0
    strategy_server.release.set()
    adopted(t)
