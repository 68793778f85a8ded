"""OTLP/HTTP with its default options: while one request waits in the pipeline (as for its persistent queue's
disk sync), the receiver keeps answering other connections, so their batches can join the same sync.

On the event-loop thread (``http.threads: 0``) the waiting request would hold up every other connection of the
port; the receiver's default runs requests on a pool instead.
"""

from __future__ import annotations

import logging
import threading

import requests

from backend.core.component import Refused, Settings
from backend.core.selfmetrics import SelfMetrics
from backend.receivers.otlp.receiver import FACTORY
from backend.spans.model import SpanBatch
from tests.backend.clients import post_otlp
from tests.builders import SpanSpec, export_request
from tests.support import wait_for


class HeldFirst:
    """A pipeline whose first batch waits until released (its disk sync held); later batches go straight on."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()
        self.batches = 0
        self._lock = threading.Lock()

    def consume(self, batch: SpanBatch) -> None:
        with self._lock:
            self.batches += 1
            first = self.batches == 1
        if first:
            self.holding.set()
            assert self.release.wait(60)

    def refusal(self) -> Refused | None:
        return None


def test_a_request_waiting_in_the_pipeline_does_not_hold_up_the_other_connections() -> None:
    pipeline = HeldFirst()
    options = FACTORY.options({"protocols": {"http": {"endpoint": "127.0.0.1:0"}}}, "test: receivers.otlp")
    settings = Settings("otlp", "test: receivers.otlp", SelfMetrics(), logging.getLogger("test"))
    receiver = FACTORY.create(settings, options, pipeline)
    receiver.start(None)  # the OTLP receiver asks the host for nothing
    try:
        url = f"http://{receiver.endpoints()['otlp/http']}/v1/traces"
        body = export_request([SpanSpec("frontend", "GET /dispatch")]).SerializeToString()
        held: list[requests.Response] = []
        first = threading.Thread(target=lambda: held.append(post_otlp(url, body)))
        first.start()
        wait_for(pipeline.holding.is_set, what="the first request waiting in the pipeline")

        assert post_otlp(url, body).status_code == 200  # answered while the first one still waits
        assert held == []

        pipeline.release.set()
        first.join(timeout=30)
        assert [response.status_code for response in held] == [200]
        assert pipeline.batches == 2
    finally:
        pipeline.release.set()
        receiver.shutdown()
