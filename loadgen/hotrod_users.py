"""Locust users for the HotROD demo: people ordering rides, like the page does, in named scenarios.

    locust -f loadgen/hotrod_users.py --headless -u 10 -r 2 -t 2m --host http://127.0.0.1:8080
    locust -f loadgen/hotrod_users.py --shape spike -u 20 --tags browse     # web UI on :8089

Each user is a browser session: a session id and an increasing request id travel in the W3C
``baggage`` header (``session``, ``request``) as the page sends them.  Scenarios are Locust tags
(select with ``--tags``): ``browse`` (the customer mix with think time), ``rush`` (three
concurrent orders for one customer: the database lock shows), ``invalid`` (unknown or malformed
customers, expected to be refused with 404/400).

Traces start here: an OpenTelemetry tracer in this process creates the client span of each
dispatch and injects ``traceparent`` and ``baggage``, and the span carries
``user_agent.synthetic.type=test`` (the semantic conventions' marker for synthetic traffic) and
``loadgen.scenario``, so synthetic traces can be filtered in the trace UI.  Spans go over OTLP to
``--otel-endpoint`` (or the standard OTEL_EXPORTER_OTLP_* variables); OTEL_SDK_DISABLED=true or
``--no-client-spans`` leaves trace starting to the frontend.  ``--faults`` runs a fault schedule
(``loadgen.faults``) against HotROD's admin endpoint during the run.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from pathlib import Path

import gevent
from locust import FastHttpUser, events, tag, task
from locust.runners import WorkerRunner
from opentelemetry import baggage, propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from loadgen import stored_rate
from loadgen.faults import REQUEST_TIMEOUT_S, FaultSchedule, FaultStep
from loadgen.shapes.locust_shape import SelectedShape  # noqa: F401 - Locust finds the shape class here
from loadgen.stored_rate import StoredRateSettings
from loadgen.synthetic import SYNTHETIC_ATTRIBUTE

USER_AGENT = "hotrod-loadgen/1 (synthetic test traffic)"
# HotROD's customers with how often each orders in the default mix
DEFAULT_CUSTOMERS = "123:4,392:3,731:2,567:1"

_tracing: dict[str, TracerProvider] = {}
_stop = threading.Event()  # set when the run stops: ends the fault schedule and the stored-rate recorder
_background: list[gevent.Greenlet] = []


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("HotROD users (loadgen.hotrod_users)")
    group.add_argument(
        "--customers",
        env_var="LOADGEN_CUSTOMERS",
        default=DEFAULT_CUSTOMERS,
        help="customer:weight,... the browse scenario orders for",
    )
    group.add_argument(
        "--think-time",
        env_var="LOADGEN_THINK_TIME",
        default="1-3",
        help="seconds a user waits between orders: MIN-MAX or one number",
    )
    group.add_argument(
        "--otel-endpoint",
        env_var="LOADGEN_OTEL_ENDPOINT",
        default="",
        help="OTLP/HTTP base URL for the client spans (default: OTEL_EXPORTER_OTLP_* or :4318)",
    )
    group.add_argument(
        "--no-client-spans",
        action="store_true",
        env_var="LOADGEN_NO_CLIENT_SPANS",
        default=False,
        help="send only baggage; let the frontend start (and sample) the traces",
    )
    group.add_argument(
        "--dispatch-rate",
        type=float,
        env_var="LOADGEN_DISPATCH_RATE",
        default=0.0,
        help="dispatches per second per user at a fixed pace (overrides --think-time); for the sampling scenario",
    )
    group.add_argument(
        "--stored-rate-file",
        env_var="LOADGEN_STORED_RATE_FILE",
        default="",
        help="record the stored trace rate over time (CSV) here: the sampling scenario's curve",
    )
    group.add_argument(
        "--stored-rate-query",
        env_var="LOADGEN_STORED_RATE_QUERY",
        default="http://127.0.0.1:16686",
        help="Jaeger query API the stored rate is read from",
    )
    group.add_argument(
        "--stored-rate-interval",
        type=float,
        env_var="LOADGEN_STORED_RATE_INTERVAL",
        default=5.0,
        help="seconds per stored-rate sample",
    )
    group.add_argument(
        "--faults",
        env_var="LOADGEN_FAULTS",
        default="",
        help="fault schedule: inline ('10s: driver_error_rate=0.5; 40s: driver_error_rate=0') or YAML",
    )
    group.add_argument(
        "--faults-admin-url",
        env_var="LOADGEN_FAULTS_ADMIN_URL",
        default="",
        help="admin endpoint the schedule PUTs to (default: HOST/admin/faults)",
    )


def parse_customers(text: str) -> tuple[list[str], list[float]]:
    customers, weights = [], []
    for part in filter(None, (p.strip() for p in text.split(","))):
        customer, _, weight = part.partition(":")
        customers.append(customer.strip())
        weights.append(float(weight or 1))
    if not customers:
        raise ValueError(f"--customers {text!r} names no customer")
    return customers, weights


def parse_think_time(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


@events.init.add_listener
def _start_tracing(environment, **_kwargs) -> None:
    options = environment.parsed_options
    if options is None or options.no_client_spans:
        return
    endpoint = f"{options.otel_endpoint.rstrip('/')}/v1/traces" if options.otel_endpoint else None
    provider = TracerProvider(resource=Resource.create({"service.name": "loadgen"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    _tracing["provider"] = provider


@events.quitting.add_listener
def _flush_tracing(**_kwargs) -> None:
    provider = _tracing.pop("provider", None)
    if provider is not None:
        provider.shutdown()


@events.test_start.add_listener
def _start_faults(environment, **_kwargs) -> None:
    _stop.clear()
    options = environment.parsed_options
    if not options or not options.faults or isinstance(environment.runner, WorkerRunner):
        return
    admin_url = options.faults_admin_url or f"{(environment.host or '').rstrip('/')}/admin/faults"
    schedule = FaultSchedule.parse(options.faults, admin_url)

    def report(step: FaultStep, seconds: float, error: Exception | None) -> None:
        environment.events.request.fire(
            request_type="FAULT",
            name=f"fault {step.describe()}",
            response_time=seconds * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    _background.append(gevent.spawn(schedule.run, _stop, report))


@events.test_start.add_listener
def _start_stored_rate(environment, **_kwargs) -> None:
    options = environment.parsed_options
    if not options or not options.stored_rate_file or isinstance(environment.runner, WorkerRunner):
        return
    settings = StoredRateSettings(
        options.stored_rate_query, interval_s=options.stored_rate_interval, lag_s=options.stored_rate_interval
    )

    def dispatches() -> int:
        return sum(
            entry.num_requests for (name, _), entry in environment.stats.entries.items() if name.startswith("dispatch")
        )

    _background.append(gevent.spawn(stored_rate.record, settings, Path(options.stored_rate_file), dispatches, _stop))


@events.test_stop.add_listener
def _stop_background(**_kwargs) -> None:
    """Stop the fault schedule and the stored-rate recorder; wait for the schedule's end-of-run values."""
    _stop.set()
    while _background:
        _background.pop().join(timeout=2 * REQUEST_TIMEOUT_S)


class HotrodUser(FastHttpUser):
    """One browser session ordering rides."""

    host = os.environ.get("LOADGEN_HOTROD_URL", "http://127.0.0.1:8080")

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.customers, self.weights = parse_customers(options.customers)
        self.think = parse_think_time(options.think_time)
        self.pace = 1.0 / options.dispatch_rate if options.dispatch_rate > 0 else 0.0
        self.next_dispatch = time.monotonic()
        self.rand = random.Random()
        self.session = uuid.uuid4().hex[:8]
        self.requests_sent = 0
        provider = _tracing.get("provider")
        self.tracer = provider.get_tracer("loadgen.hotrod_users") if provider else None

    def wait_time(self) -> float:
        if not self.pace:
            return self.rand.uniform(*self.think)
        self.next_dispatch = max(self.next_dispatch + self.pace, time.monotonic() - self.pace)
        return max(0.0, self.next_dispatch - time.monotonic())

    @tag("browse")
    @task(8)
    def browse(self) -> None:
        customer = self.rand.choices(self.customers, weights=self.weights)[0]
        self.dispatch(customer, "browse")

    @tag("rush")
    @task(1)
    def rush(self) -> None:
        customer = self.rand.choice(self.customers)
        gevent.joinall([gevent.spawn(self.dispatch, customer, "rush") for _ in range(3)])

    @tag("invalid")
    @task(1)
    def invalid(self) -> None:
        customer, expected = self.rand.choice([("999", 404), ("not-a-number", 400)])
        self.dispatch(customer, "invalid", expected_status=expected)

    def dispatch(self, customer: str, scenario: str, expected_status: int = 200) -> None:
        self.requests_sent += 1
        context = baggage.set_baggage("session", self.session)
        context = baggage.set_baggage("request", f"{self.session}-{self.requests_sent}", context)
        attributes = {
            SYNTHETIC_ATTRIBUTE: "test",
            "loadgen.scenario": scenario,
            "http.request.method": "GET",
            "url.full": f"{self.host}/dispatch?customer={customer}",
            "customer.id": customer,
        }
        if self.tracer is None:
            self._get(customer, scenario, expected_status, context, None)
            return
        with self.tracer.start_as_current_span(
            "GET /dispatch", context=context, kind=trace.SpanKind.CLIENT, attributes=attributes
        ) as span:
            self._get(customer, scenario, expected_status, trace.set_span_in_context(span, context), span)

    def _get(self, customer: str, scenario: str, expected: int, context, span) -> None:
        headers = {"User-Agent": USER_AGENT}
        propagate.inject(headers, context=context)
        with self.client.get(
            "/dispatch",
            params={"customer": customer},
            headers=headers,
            name=f"dispatch [{scenario}]",
            catch_response=True,
        ) as response:
            status = response.status_code or 0
            problem = _problem(status, expected, response.content or b"", getattr(response, "error", None))
            if span is not None:
                span.set_attribute("http.response.status_code", status)
                if problem:
                    span.set_status(trace.Status(trace.StatusCode.ERROR, problem))
            if problem:
                response.failure(problem)
            else:
                response.success()


def _problem(status: int, expected: int, body: bytes, error: Exception | None) -> str | None:
    if not status:
        return f"request failed: {error}"
    if status != expected:
        return f"expected HTTP {expected}, got {status}: {body[:200]!r}"
    if expected == 200:
        try:
            document = json.loads(body)
        except ValueError:
            return "dispatch answer is not JSON"
        if not isinstance(document, dict):
            return "dispatch answer is not a JSON object"
    return None
