"""A Locust user that runs the fixed Jaeger query mix against any Jaeger-compatible query endpoint.

    locust -f loadgen/query_users.py --headless -u 2 -r 2 -t 30s --host http://127.0.0.1:16686 \
        --query-trace-ids run/sent.json

Trace ids to fetch come from a firehose record file (``--query-trace-ids``, written by
``otlp_users --record-file``) or, when both locustfiles run in one process
(``-f loadgen/otlp_users.py,loadgen/query_users.py``), from the traces accepted so far.  Services
are read from ``/api/services`` and refreshed as they appear.  A wrong answer (a trace that is not
there, a body that is not the Jaeger envelope) counts as a failure, not just a slow one.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from locust import FastHttpUser, events, task

from backend.core.durations import parse_duration_ns
from loadgen.jaeger_queries import QueryPlan, check_answer
from loadgen.record import SENT, SentRecord

SERVICES_REFRESH_S = 10.0


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("Jaeger query users (loadgen.query_users)")
    group.add_argument(
        "--query-trace-ids",
        env_var="LOADGEN_QUERY_TRACE_IDS",
        default="",
        help="record file (JSON) whose accepted trace ids to fetch",
    )
    group.add_argument(
        "--query-endpoint",
        env_var="LOADGEN_QUERY_ENDPOINT",
        default="",
        help="query API base URL when --host points elsewhere (e.g. at the collector)",
    )
    group.add_argument(
        "--query-min-age",
        type=float,
        env_var="LOADGEN_QUERY_MIN_AGE",
        default=2.0,
        help="only fetch traces accepted at least this many seconds ago (the backend's batching delay)",
    )
    group.add_argument(
        "--query-lookback",
        env_var="LOADGEN_QUERY_LOOKBACK",
        default="1h",
        help="how far back find-traces queries search",
    )
    group.add_argument(
        "--query-attribute",
        env_var="LOADGEN_QUERY_ATTRIBUTE",
        default="customer.tier=gold",
        help="key=value that find-by-attribute queries ask for",
    )
    group.add_argument(
        "--query-think-time",
        type=float,
        env_var="LOADGEN_QUERY_THINK_TIME",
        default=0.5,
        help="seconds between one user's queries",
    )


class JaegerQueryUser(FastHttpUser):
    host = "http://127.0.0.1:16686"

    def wait_time(self) -> float:
        return self.environment.parsed_options.query_think_time

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.rand = random.Random()
        self.ids = SentRecord.load(Path(options.query_trace_ids)) if options.query_trace_ids else SENT
        key, _, value = options.query_attribute.partition("=")
        self.lookback_us = parse_duration_ns(options.query_lookback) // 1000
        self.plan = QueryPlan(services=[], window_start_us=0, window_end_us=0, attribute=(key, value), rand=self.rand)
        self.services_read_at = float("-inf")
        self.base = (options.query_endpoint or self.host or "").rstrip("/")

    @task
    def query(self) -> None:
        if time.monotonic() - self.services_read_at > SERVICES_REFRESH_S:
            self._read_services()
        now_us = time.time_ns() // 1000
        # synthetic traces may start a little ahead of the wall clock: look a minute past now
        self.plan.window_start_us, self.plan.window_end_us = now_us - self.lookback_us, now_us + 60_000_000
        trace_id = self.ids.sample_trace_id(self.rand, self.environment.parsed_options.query_min_age)
        if not self.plan.services and trace_id is None:
            return  # nothing stored yet to ask about
        query = self.plan.next(trace_id) if self.plan.services else self.plan.build("trace-by-id", trace_id)
        with self.client.get(
            f"{self.base}{query.path}", params=query.params, name=query.name, catch_response=True
        ) as response:
            status = response.status_code or 0
            problem = (
                check_answer(query, status, response.content or b"")
                if status
                else f"request failed: {getattr(response, 'error', None)}"
            )
            if problem:
                response.failure(problem)
            else:
                response.success()

    def _read_services(self) -> None:
        with self.client.get(f"{self.base}/api/services", name="services", catch_response=True) as response:
            document = response.json() if response.status_code == 200 else {}
            services = document.get("data") if isinstance(document, dict) else None
            if isinstance(services, list):
                self.plan.services = sorted(str(s) for s in services)
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}: no service list")
        self.services_read_at = time.monotonic()
