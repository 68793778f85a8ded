"""``/api/tail-sampling``: what each tail_sampling processor of this backend kept and dropped, per policy.

Not a Jaeger endpoint (Jaeger has no tail sampling): the Monitor page reads
it.  The numbers are the processors' own counters in the service's metrics
registry, the same ones :8888 serves, so the page and Prometheus agree.  A
query process of its own (``backend.query_process``) reads them from the
ingesting process's ``/metrics`` (``Scraped``), and says 503 while it cannot.
A query role without the pipeline (``deploy/roles/query.yaml``) has no such
counters and answers an empty list.
"""

from __future__ import annotations

import requests
from flask import Blueprint, Response

from backend.processors.tail_sampling.metrics import Collecting, Scraped, read
from backend.query.responses import envelope, envelope_error, json_response


def blueprint(registry: Collecting | None) -> Blueprint:
    api = Blueprint("tail_sampling_api", __name__)

    @api.get("/api/tail-sampling")
    def counts() -> Response:
        try:
            found = read(registry) if registry is not None else []
        except requests.RequestException as exc:
            where = registry.url if isinstance(registry, Scraped) else "the metrics registry"
            return envelope_error(503, f"the tail sampler's counters cannot be read from {where}: {exc}")
        data = [
            {
                "processor": counts.processor,
                "sampled": counts.sampled,
                "notSampled": counts.not_sampled,
                "decidedEarly": counts.decided_early,
                "tracesOnMemory": counts.on_memory,
                "policies": [
                    {"policy": p.policy, "sampled": p.sampled, "notSampled": p.not_sampled}
                    for p in counts.policies.values()
                ],
            }
            for counts in found
        ]
        return json_response(envelope(data, total=len(data)))

    return api
