"""Adaptive sampling convergence: request rate, stored trace rate and served probability over time.

Usage (from the repository root): .venv/bin/python -m benchmarks.sampling [--target 1] [--interval 5]
       [--quiet-rate 2] [--load-rate 100] [--phases 30,90,30] [--png sampling-convergence.png]

One backend runs in this process (memory storage, ``remote_sampling`` adaptive
with the given target and calculation interval, ``adaptive_sampling``
processor, initial probability 1.0 as in the demo).  A synthetic service
creates root spans through the real OpenTelemetry SDK with our
``jaeger_remote`` sampler polling every second and exports them over
OTLP/HTTP: first a quiet phase (a person clicking), then a load phase, then
quiet again.  Per interval the table shows the request rate, the rate of
traces that reached storage and the probability being served; the same
curves are saved as a PNG.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from backend.config import load
from backend.extensions.storage.extension import find_storage
from backend.service import BackendService
from backend.storage.api import TraceQuery
from hotrod.sampling import JaegerRemoteSampler
from tests.support import on_any_port

SERVICE = "bench-frontend"
OPERATION = "HTTP GET /dispatch"


@dataclass
class Sample:
    start_ns: int
    end_ns: int
    requests: int
    probability: float
    phase: int
    stored: int = 0


def backend(target: float, interval_s: float) -> BackendService:
    overrides = [
        "extensions.jaeger_storage.backends.main={memory: {max_traces: 1000000}}",
        *on_any_port("otlp-grpc", "otlp-http", "query", "health", "metrics"),
        "service.extensions=[jaeger_storage, jaeger_query, healthcheckv2, remote_sampling]",
        "processors.adaptive_sampling={}",
        "service.pipelines.traces.processors=[batch, adaptive_sampling]",
        "extensions.remote_sampling={http: {endpoint: '127.0.0.1:0'}, adaptive: {sampling_store: main,"
        f" target_samples_per_second: {target}, calculation_interval: {interval_s}s, calculation_buckets: 3,"
        " calculation_delay: 0s, initial_sampling_probability: 1.0, follower_probability_refresh_interval: 1s}}",
    ]
    service = BackendService(load(None, overrides))
    service.start()
    return service


def drive(tracer, sampler: JaegerRemoteSampler, phases: list[tuple[float, float]], bucket_s: float) -> list[Sample]:
    """Create root spans at each phase's rate; one Sample per ``bucket_s``."""
    samples: list[Sample] = []
    for phase, (seconds, rate) in enumerate(phases):
        phase_end = time.monotonic() + seconds
        next_span = time.monotonic()
        while time.monotonic() < phase_end:
            bucket_start, bucket_start_ns = time.monotonic(), time.time_ns()
            count = 0
            while time.monotonic() < min(bucket_start + bucket_s, phase_end):
                now = time.monotonic()
                if now < next_span:
                    time.sleep(min(next_span - now, 0.01))
                    continue
                with tracer.start_as_current_span(OPERATION):
                    count += 1
                next_span += 1.0 / rate
            probability = sampler.probability_for(OPERATION)
            assert probability is not None, "adaptive strategies are per-operation probabilities"
            samples.append(Sample(bucket_start_ns, time.time_ns(), count, probability, phase))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=1.0, help="target traces per second per operation")
    parser.add_argument("--interval", type=float, default=5.0, help="calculation interval in seconds")
    parser.add_argument("--quiet-rate", type=float, default=2.0, help="requests per second when quiet")
    parser.add_argument("--load-rate", type=float, default=100.0, help="requests per second under load")
    parser.add_argument("--phases", default="30,90,30", help="seconds of quiet, load, quiet")
    parser.add_argument("--png", default="sampling-convergence.png")
    args = parser.parse_args()
    quiet, loaded, after = (float(p) for p in args.phases.split(","))
    phases = [(quiet, args.quiet_rate), (loaded, args.load_rate), (after, args.quiet_rate)]

    service = backend(args.target, args.interval)
    endpoint = f"http://{service.endpoints['remote_sampling']}/sampling"
    sampler = JaegerRemoteSampler(SERVICE, endpoint=endpoint, polling_interval_s=1.0, initial_sampling_rate=1.0)
    provider = TracerProvider(sampler=sampler, resource=Resource.create({"service.name": SERVICE}))
    exporter = OTLPSpanExporter(endpoint=f"http://{service.endpoints['otlp/http']}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
    try:
        samples = drive(provider.get_tracer("bench"), sampler, phases, bucket_s=args.interval)
        provider.force_flush()
        time.sleep(1.0)  # the backend's batch processor delivers what it holds
        reader = find_storage(service, "main", "benchmark").reader()
        for sample in samples:
            query = TraceQuery(
                SERVICE, OPERATION, start_min_ns=sample.start_ns, start_max_ns=sample.end_ns, limit=1_000_000
            )
            sample.stored = len(reader.find_trace_ids(query))
    finally:
        sampler.close()
        provider.shutdown()
        service.shutdown()
    report(samples, args)


def report(samples: list[Sample], args: argparse.Namespace) -> None:
    origin = samples[0].start_ns
    times, request_rates, stored_rates, probabilities = [], [], [], []
    print(f"target {args.target}/s, calculation interval {args.interval}s")
    print(f"{'time s':>7} {'requests/s':>11} {'stored/s':>9} {'probability':>12}")
    for sample in samples:
        seconds = (sample.end_ns - sample.start_ns) / 1e9
        times.append((sample.end_ns - origin) / 1e9)
        request_rates.append(sample.requests / seconds)
        stored_rates.append(sample.stored / seconds)
        probabilities.append(sample.probability)
        print(f"{times[-1]:7.1f} {request_rates[-1]:11.1f} {stored_rates[-1]:9.2f} {probabilities[-1]:12.4f}")
    settled = [s for s in samples if s.phase == 1][3:]  # the load phase, after three calculations
    if settled:
        seconds = sum(s.end_ns - s.start_ns for s in settled) / 1e9
        stored = sum(s.stored for s in settled) / seconds
        offered = sum(s.requests for s in settled) / seconds
        print(
            f"load phase after 3 intervals: {offered:.1f} requests/s, {stored:.2f} stored traces/s "
            f"({stored / args.target:.2f}x target, requests {offered / max(stored, 1e-9):.0f}x stored)"
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rates, probability) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    rates.plot(times, request_rates, label="requests/s")
    rates.plot(times, stored_rates, label="stored traces/s")
    rates.axhline(args.target, linestyle="--", color="grey", label="target")
    rates.set_yscale("symlog", linthresh=1.0)
    rates.set_ylabel("per second")
    rates.legend()
    probability.plot(times, probabilities, color="tab:green")
    probability.set_yscale("log")
    probability.set_ylabel("served probability")
    probability.set_xlabel("seconds")
    figure.suptitle(f"Adaptive sampling convergence (target {args.target} trace/s)")
    figure.savefig(args.png, dpi=100)
    print(f"plot saved to {args.png}")


if __name__ == "__main__":
    main()
