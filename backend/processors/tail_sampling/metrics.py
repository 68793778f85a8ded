"""The tail sampler's counters, under the Collector's names, in the service's own Prometheus registry.

One set per registry (every tail_sampling processor of a backend shares it,
told apart by the ``processor`` label), so :8888 serves them beside the other
``otelcol_*`` metrics.  ``read`` turns the same counters back into the
per-policy numbers the query API serves to the Monitor page: what the page
shows is what Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import requests
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from backend.core.per_object import PerObject

_PREFIX = "otelcol_processor_tail_sampling_"


class TailSamplingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.policy_traces = Counter(
            _PREFIX + "count_traces_sampled",
            "Traces each policy voted to sample (sampled=true) or not.",
            ["processor", "policy", "sampled", "decision"],
            registry=registry,
        )
        self.global_traces = Counter(
            _PREFIX + "global_count_traces_sampled",
            "Traces sampled (by at least one policy) or not.",
            ["processor", "sampled", "decision"],
            registry=registry,
        )
        self.new_traces = Counter(
            _PREFIX + "new_trace_id_received", "Traces seen for the first time.", ["processor"], registry=registry
        )
        self.decided_early = Counter(
            _PREFIX + "sampling_trace_decided_early",
            "Traces decided before decision_wait because num_traces were held (the Collector drops them instead).",
            ["processor"],
            registry=registry,
        )
        self.evaluation_errors = Counter(
            _PREFIX + "sampling_policy_evaluation_error",
            "Policy evaluations that raised (counted as a vote not to sample).",
            ["processor", "policy"],
            registry=registry,
        )
        self.on_memory = Gauge(
            _PREFIX + "sampling_traces_on_memory",
            "Traces held: undecided, or sampled and waiting for the next consumer to take them.",
            ["processor"],
            registry=registry,
        )


# every tail-sampling processor of a service registers its series in the same families
metrics_for: PerObject[CollectorRegistry, TailSamplingMetrics] = PerObject(TailSamplingMetrics)


@dataclass
class PolicyCounts:
    policy: str
    sampled: int = 0
    not_sampled: int = 0


@dataclass
class ProcessorCounts:
    processor: str
    sampled: int = 0
    not_sampled: int = 0
    decided_early: int = 0
    on_memory: int = 0
    policies: dict[str, PolicyCounts] = field(default_factory=dict)


class Collecting(Protocol):
    """What ``read`` reads: a registry of this process, or ``Scraped`` (another process's /metrics)."""

    def collect(self) -> Iterable[Metric]: ...


class Scraped:
    """The counters another process serves on its ``/metrics``: the query process reads the collector's.

    Each ``collect`` scrapes once (the Monitor page asks every few seconds); a failure raises
    ``requests.RequestException``.
    """

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self._timeout_s = timeout_s

    def collect(self) -> Iterable[Metric]:
        response = requests.get(self.url, timeout=self._timeout_s)
        response.raise_for_status()
        return list(text_string_to_metric_families(response.text))


def read(registry: Collecting) -> list[ProcessorCounts]:
    """Every tail_sampling processor's numbers so far, by processor id, policies in the order first counted."""
    found: dict[str, ProcessorCounts] = {}
    for family in registry.collect():
        for sample in family.samples:
            if not sample.name.startswith(_PREFIX) or sample.name.endswith("_created"):
                continue
            labels = sample.labels
            counts = found.setdefault(labels["processor"], ProcessorCounts(labels["processor"]))
            value = int(sample.value)
            name = sample.name.removeprefix(_PREFIX)
            sampled = labels.get("sampled") == "true"
            if name == "count_traces_sampled_total":
                policy = counts.policies.setdefault(labels["policy"], PolicyCounts(labels["policy"]))
                if sampled:
                    policy.sampled += value
                else:
                    policy.not_sampled += value
            elif name == "global_count_traces_sampled_total":
                if sampled:
                    counts.sampled += value
                else:
                    counts.not_sampled += value
            elif name == "sampling_trace_decided_early_total":
                counts.decided_early = value
            elif name == "sampling_traces_on_memory":
                counts.on_memory = value
    return sorted(found.values(), key=lambda counts: counts.processor)
