"""Locust users that export seeded synthetic traces to any OTLP collector: the firehose.

    locust -f loadgen/otlp_users.py --headless -u 4 -r 4 -t 30s --host http://127.0.0.1:4318 OtlpHttpUser
    locust -f loadgen/otlp_users.py --headless -u 4 -r 4 -t 30s --host 127.0.0.1:4317 OtlpGrpcUser

Each export is one Locust request (name ``otlp-http export`` / ``otlp-grpc export``); its length
is the size of the request body, i.e. what was shipped.  An export counts as failed when the
collector refuses it (non-2xx, a gRPC error, a refused connection, or a partial success that
rejected spans).  With ``--record-file`` every trace id sent is saved with its span count and
whether it was accepted, so a completeness check can later ask the backend for each one; the
same record feeds ``query_users`` when both run in one Locust process.  In a distributed run the
master's options reach the workers, and each worker saves its part as ``<file>.worker<N>``.
Every setting is also an environment variable (``LOADGEN_*``), for compose.  Works against any
collector, a real Jaeger included.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import grpc
from grpc.experimental import gevent as grpc_gevent
from locust import FastHttpUser, User, events, task
from locust.runners import MasterRunner, WorkerRunner
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from loadgen.record import SENT
from loadgen.synthetic import SentTrace, SyntheticTraces, TraceShape

# Locust has already patched the process with gevent; gRPC must cooperate with it.
grpc_gevent.init_gevent()

_user_numbers = itertools.count()
STREAMS_PER_WORKER = 1_000_000


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("synthetic OTLP traces (loadgen.otlp_users)")
    defaults = TraceShape()
    group.add_argument("--seed", type=int, env_var="LOADGEN_SEED", default=1, help="seed of the trace data")
    group.add_argument(
        "--otlp-base-time-ns",
        type=int,
        env_var="LOADGEN_BASE_TIME_NS",
        default=0,
        help="start time of the first trace (0: when the user starts); fix it for byte-identical runs",
    )
    group.add_argument("--otlp-services", type=int, env_var="LOADGEN_SERVICES", default=defaults.services)
    group.add_argument("--otlp-depth", type=int, env_var="LOADGEN_DEPTH", default=defaults.depth)
    group.add_argument(
        "--otlp-spans-per-trace", type=int, env_var="LOADGEN_SPANS_PER_TRACE", default=defaults.spans_per_trace
    )
    group.add_argument("--otlp-attributes", type=int, env_var="LOADGEN_ATTRIBUTES", default=defaults.attributes)
    group.add_argument(
        "--otlp-attribute-size", type=int, env_var="LOADGEN_ATTRIBUTE_SIZE", default=defaults.attribute_size
    )
    group.add_argument("--otlp-error-rate", type=float, env_var="LOADGEN_ERROR_RATE", default=defaults.error_rate)
    group.add_argument(
        "--otlp-traces-per-request", type=int, env_var="LOADGEN_TRACES_PER_REQUEST", default=defaults.traces_per_request
    )
    group.add_argument(
        "--otlp-exports-per-second",
        type=float,
        env_var="LOADGEN_EXPORTS_PER_SECOND",
        default=0.0,
        help="per user; 0 exports as fast as the collector answers",
    )
    group.add_argument(
        "--otlp-http-endpoint",
        env_var="LOADGEN_OTLP_HTTP_ENDPOINT",
        default="",
        help="base URL for OtlpHttpUser when --host points elsewhere",
    )
    group.add_argument(
        "--otlp-grpc-endpoint",
        env_var="LOADGEN_OTLP_GRPC_ENDPOINT",
        default="",
        help="host:port for OtlpGrpcUser when --host points elsewhere",
    )
    group.add_argument(
        "--record-file",
        env_var="LOADGEN_RECORD_FILE",
        default="",
        help="save every trace id sent (accepted or refused) as JSON here at the end",
    )


@events.test_stop.add_listener
def _save_record(environment, **_kwargs) -> None:
    path = getattr(environment.parsed_options, "record_file", "") if environment.parsed_options else ""
    if not path:
        return
    if isinstance(environment.runner, MasterRunner):
        return  # the workers sent the traces; each saves its own part
    if isinstance(environment.runner, WorkerRunner):
        path = f"{path}.worker{environment.runner.worker_index}"
    SENT.save(Path(path))


class _SyntheticExporter(User):
    """What both transports share: the seeded trace source, pacing and recording."""

    abstract = True
    transport = ""

    def on_start(self) -> None:
        options = self.environment.parsed_options
        shape = TraceShape(
            services=options.otlp_services,
            depth=options.otlp_depth,
            spans_per_trace=options.otlp_spans_per_trace,
            attributes=options.otlp_attributes,
            attribute_size=options.otlp_attribute_size,
            error_rate=options.otlp_error_rate,
            traces_per_request=options.otlp_traces_per_request,
        )
        runner = self.environment.runner
        worker = max(getattr(runner, "worker_index", 0), 0)
        stream = worker * STREAMS_PER_WORKER + next(_user_numbers)
        base_time_ns = options.otlp_base_time_ns or time.time_ns()
        self.source = SyntheticTraces(shape, options.seed, base_time_ns, stream)
        self.pace = 1.0 / options.otlp_exports_per_second if options.otlp_exports_per_second > 0 else 0.0
        self.next_export = time.monotonic()
        SENT.settings.update(seed=options.seed, shape=shape.__dict__, transport=self.transport)
        SENT.settings.setdefault("streams", {})[str(stream)] = base_time_ns

    def wait_time(self) -> float:
        """Open pacing: aim at a fixed export rate whatever each export took."""
        if not self.pace:
            return 0.0
        self.next_export = max(self.next_export + self.pace, time.monotonic() - self.pace)
        return max(0.0, self.next_export - time.monotonic())

    def record(self, traces: list[SentTrace], accepted: bool) -> None:
        SENT.add(traces, accepted)


def _partial_rejection(body: bytes) -> str | None:
    """A 2xx OTLP answer can still reject spans (partial success); say so if it did."""
    if not body:
        return None
    answer = ExportTraceServiceResponse()
    try:
        answer.ParseFromString(body)
    except Exception:  # noqa: BLE001 - a non-protobuf 2xx body carries no rejection to report
        return None
    rejected = answer.partial_success.rejected_spans
    return f"collector rejected {rejected} spans: {answer.partial_success.error_message}" if rejected else None


class OtlpHttpUser(_SyntheticExporter, FastHttpUser):
    """OTLP/HTTP protobuf exports to ``{host}/v1/traces``."""

    host = "http://127.0.0.1:4318"
    transport = "otlp-http"

    @task
    def export(self) -> None:
        request, traces = self.source.next_request()
        body = request.SerializeToString()
        headers = {"Content-Type": "application/x-protobuf"}
        base = (self.environment.parsed_options.otlp_http_endpoint or self.host or "").rstrip("/")
        with self.client.post(
            f"{base}/v1/traces",
            data=body,  # type: ignore[arg-type]  # its stub omits bytes; geventhttpclient sends them as they are
            headers=headers,
            name="otlp-http export",
            catch_response=True,
        ) as response:
            response.request_meta["response_length"] = len(body)
            status = response.status_code or 0
            problem: str | None
            if not 200 <= status < 300:
                problem = f"HTTP {status}: {getattr(response, 'error', None) or (response.text or '')[:200]}"
            else:
                problem = _partial_rejection(response.content or b"")
            if problem:
                response.failure(problem)
            self.record(traces, problem is None)


class OtlpGrpcUser(_SyntheticExporter):
    """OTLP/gRPC exports to ``host:port`` (from --otlp-grpc-endpoint, else --host without scheme)."""

    host = "127.0.0.1:4317"
    transport = "otlp-grpc"
    timeout_s = 10.0

    def on_start(self) -> None:
        super().on_start()
        target = self.environment.parsed_options.otlp_grpc_endpoint or self.host or ""
        target = target.removeprefix("http://").removeprefix("grpc://").rstrip("/")
        self.channel = grpc.insecure_channel(target)
        self.stub = TraceServiceStub(self.channel)

    def on_stop(self) -> None:
        self.channel.close()

    @task
    def export(self) -> None:
        request, traces = self.source.next_request()
        length = request.ByteSize()
        started = time.perf_counter()
        exception: Exception | None = None
        try:
            answer = self.stub.Export(request, timeout=self.timeout_s)
            rejected = answer.partial_success.rejected_spans
            if rejected:
                exception = RuntimeError(f"collector rejected {rejected} spans: {answer.partial_success.error_message}")
        except grpc.RpcError as error:
            exception = RuntimeError(f"gRPC {error.code().name}: {error.details()}")
        self.environment.events.request.fire(
            request_type="grpc",
            name="otlp-grpc export",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=exception,
            context={},
        )
        self.record(traces, exception is None)
