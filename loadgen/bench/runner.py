"""The benchmark matrix: for each target, ingest steps at rising rates with queries alongside, then verify.

Every target gets the same data (one seeded generator per target, same seed and base time) and
the same query mix at the same pace, so the numbers differ only by backend.  Per step it measures what was
offered, accepted and refused, how long until the step's last traces were queryable (the stored
rate), export and query latencies, and the CPU of both the backend and the benchmark itself (a
saturated generator must not pass for a slow backend).  After the steps every accepted trace is
fetched back and its spans counted.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loadgen.bench.driver import QUERY_RATE, QueryLoad, prepare, send
from loadgen.bench.faults import BenchFault, FaultRun
from loadgen.bench.targets import BackendTarget, ExternalTarget
from loadgen.bench.verify import verify, wait_until_stored
from loadgen.jaeger_queries import QueryPlan
from loadgen.record import SentRecord
from loadgen.synthetic import TRACE_SPACING_NS, SyntheticTraces, TraceShape, service_name

STORED_SAMPLE = 20  # last traces of a step whose arrival marks the step as stored
MAX_LISTED_LOSSES = 100


@dataclass(frozen=True)
class BenchSettings:
    storages: list[str]
    externals: list[tuple[str, str, str]]  # (name, OTLP/HTTP base URL, query base URL)
    rates: list[float]  # offered spans per second, one step each
    step_seconds: float
    shape: TraceShape
    seed: int
    base_time_ns: int
    senders: int
    query_concurrency: int
    postgres_url: str
    output: Path
    drain_timeout_s: float
    backend_overrides: list[str] = field(default_factory=list)  # "KEY.PATH=VALUE" for `hotrod backend --set`
    fault: BenchFault | None = None  # injected into the last step of every started backend
    query_rate: float = QUERY_RATE  # queries a second during ingest (loadgen.bench.driver.QueryLoad)
    protocol: str = "http"  # how exports are sent: "http" (OTLP/HTTP) or "grpc" (OTLP/gRPC, started backends)


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 2), "count": len(ordered)}


@dataclass
class StepReport:
    offered_spans_per_s: float
    sent_spans_per_s: float
    accepted_spans_per_s: float
    stored_spans_per_s: float | None  # None: the step's last traces never became queryable in time
    drain_seconds: float | None
    accepted_spans: int
    refused_spans: int
    refusals: dict[str, int]
    export_ms: dict[str, float | None]
    query_ms: dict[str, dict[str, float | None]]  # per kind, plus "all"
    query_failures: dict[str, dict[str, int]]
    backend_cpu_percent: float | None
    backend_rss_mb: float | None
    driver_cpu_percent: float
    driver_rss_mb: float


@dataclass
class TargetReport:
    name: str
    steps: list[StepReport] = field(default_factory=list)
    completeness: dict = field(default_factory=dict)
    disk_bytes_empty: int | None = None  # the storage before any span: schema, preallocation
    disk_bytes: int | None = None  # what the spans added
    bytes_per_span: float | None = None
    backend_peak_rss_mb: float | None = None
    query_ms: dict[str, dict[str, float | None]] = field(default_factory=dict)  # over all steps
    dataset_sha256: str = ""
    error: str | None = None
    #: the fault injected (loadgen.bench.faults): what, in which step, when it began and ended, the step's worst
    #: export latency and refusals
    fault: dict = field(default_factory=dict)


def run(settings: BenchSettings, console: Console | None = None) -> list[TargetReport]:
    console = console or Console()
    targets: list[BackendTarget | ExternalTarget] = [
        BackendTarget(storage, settings.output / "work", settings.postgres_url, _overrides(settings, storage))
        for storage in settings.storages
    ]
    targets += [ExternalTarget(name, otlp, query) for name, otlp, query in settings.externals]
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"))
    reports = []
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        for target in targets:
            task = progress.add_task(f"{target.name}: starting", total=len(settings.rates) + 1)
            report = TargetReport(target.name)
            try:
                _run_target(settings, target, report, progress, task)
            except Exception as exc:  # noqa: BLE001 - one broken target must not hide the others' results
                report.error = f"{type(exc).__name__}: {exc}"
                progress.console.print(f"[red]{target.name} failed:[/red] {report.error}")
            finally:
                target.stop()
                if isinstance(target, BackendTarget):
                    after = target.disk_bytes()
                    if after is not None:
                        report.disk_bytes = after - (report.disk_bytes_empty or 0)
                    found = report.completeness.get("found_spans") or 0
                    if report.disk_bytes is not None and found:
                        report.bytes_per_span = round(report.disk_bytes / found, 1)
                    if target.usage:
                        report.backend_peak_rss_mb = round(target.usage.peak_rss / 2**20, 1)
                    target.drop()
            reports.append(report)
    return reports


def _run_target(settings, target, report: TargetReport, progress: Progress, task) -> None:
    endpoints = target.start()
    report.disk_bytes_empty = target.disk_bytes()
    shape = settings.shape
    record = SentRecord(settings={"seed": settings.seed, "base_time_ns": settings.base_time_ns})
    source = SyntheticTraces(shape, settings.seed, settings.base_time_ns)
    digest = hashlib.sha256()
    window_end_ns = settings.base_time_ns + planned_traces(settings) * TRACE_SPACING_NS + 10**9
    plan = QueryPlan(
        services=[service_name(i) for i in range(shape.services)],
        window_start_us=settings.base_time_ns // 1000,
        window_end_us=window_end_ns // 1000,
        rand=random.Random(settings.seed),
    )
    queries = QueryLoad(endpoints.query, plan, record, settings.query_concurrency, settings.query_rate)
    all_query_ms: dict[str, list[float]] = {}
    me = psutil.Process()
    for number, rate in enumerate(settings.rates, start=1):
        label = f"{target.name}: step {number}/{len(settings.rates)}, {rate:,.0f} spans/s"
        progress.update(task, description=f"{label}: generating")
        prepared = prepare(source, int(rate * settings.step_seconds), digest)
        progress.update(task, description=f"{label}: sending")
        before = len(record.accepted)
        backend_cpu = target.usage.cpu_seconds() if target.usage else None
        driver_cpu = _cpu(me)
        queries.latencies_ms.clear()
        queries.failures.clear()
        fault = None
        if settings.fault is not None and number == len(settings.rates) and isinstance(target, BackendTarget):
            fault = FaultRun(settings.fault, at_s=settings.step_seconds / 4)
            fault.start(target)
        queries.start()
        grpc_target = endpoints.otlp_grpc if settings.protocol == "grpc" else ""
        ingest = send(endpoints.otlp_http, prepared, rate, settings.senders, record, grpc_target)
        queries.stop()
        restarted = fault is not None and fault.fault.kind == "kill-backend"
        if fault is not None:
            fault.join()  # an outage may outlast the step's sending: storage is back before the drain is timed
            report.fault = {
                "fault": fault.fault.describe(),
                "step": number,
                "began_s": fault.began_s,
                "ended_s": fault.ended_s,
                "error": fault.error,
                "export_ms_max": percentiles(ingest.latencies_ms)["max"],
                "refusals": dict(ingest.refusals),
            }
        driver_cpu = _cpu(me) - driver_cpu
        progress.update(task, description=f"{label}: draining")
        step_ids = list(record.accepted.items())[before:]
        drain = wait_until_stored(endpoints.query, dict(step_ids[-STORED_SAMPLE:]), settings.drain_timeout_s)
        busy = ingest.seconds + (drain if drain is not None else settings.drain_timeout_s)
        for kind, values in queries.latencies_ms.items():
            all_query_ms.setdefault(kind, []).extend(values)
        report.steps.append(
            StepReport(
                offered_spans_per_s=rate,
                sent_spans_per_s=round(ingest.sent_spans_per_s, 1),
                accepted_spans_per_s=round(ingest.accepted_spans_per_s, 1),
                stored_spans_per_s=round(ingest.accepted_spans / busy, 1) if drain is not None else None,
                drain_seconds=round(drain, 3) if drain is not None else None,
                accepted_spans=ingest.accepted_spans,
                refused_spans=ingest.refused_spans,
                refusals=dict(ingest.refusals),
                export_ms=percentiles(ingest.latencies_ms),
                query_ms=_query_percentiles(queries.latencies_ms),
                query_failures={kind: dict(counts) for kind, counts in queries.failures.items()},
                backend_cpu_percent=(
                    round(100 * (target.usage.cpu_seconds() - backend_cpu) / busy, 1)
                    if target.usage and backend_cpu is not None and not restarted
                    else None  # a killed and restarted backend's CPU time starts again from 0
                ),
                backend_rss_mb=round(target.usage.rss() / 2**20, 1) if target.usage else None,
                driver_cpu_percent=round(100 * driver_cpu / ingest.seconds, 1) if ingest.seconds else 0.0,
                driver_rss_mb=round(me.memory_info().rss / 2**20, 1),
            )
        )
        progress.advance(task)
        done = report.steps[-1]
        progress.console.print(
            f"{label}: accepted {done.accepted_spans_per_s:,.0f}/s, stored {done.stored_spans_per_s or 0:,.0f}/s, "
            f"refused {done.refused_spans:,} spans, query p99 {done.query_ms['all']['p99']} ms, "
            f"backend CPU {done.backend_cpu_percent} %, driver CPU {done.driver_cpu_percent} %"
        )
    progress.update(task, description=f"{target.name}: verifying {len(record.accepted):,} traces")
    report.dataset_sha256 = digest.hexdigest()
    report.query_ms = _query_percentiles(all_query_ms)
    completeness = verify(endpoints.query, record.accepted)
    report.completeness = {
        "expected_traces": completeness.expected_traces,
        "expected_spans": completeness.expected_spans,
        "found_spans": completeness.found_spans,
        "percent": None if completeness.percent is None else round(completeness.percent, 4),
        "missing_traces": len(completeness.missing),
        "incomplete_traces": len(completeness.incomplete),
        "missing_ids": completeness.missing[:MAX_LISTED_LOSSES],
        "incomplete_ids": dict(list(completeness.incomplete.items())[:MAX_LISTED_LOSSES]),
        "refused_traces": len(record.refused),
    }
    share = "nothing accepted" if completeness.percent is None else f"{completeness.percent:.2f} % complete"
    progress.update(task, description=f"{target.name}: done, {share}")
    progress.advance(task)


def planned_traces(settings: BenchSettings) -> int:
    return int(sum(settings.rates) * settings.step_seconds / settings.shape.spans_per_trace) + len(settings.rates) * 100


def _overrides(settings: BenchSettings, storage: str) -> list[str]:
    """The user's ``--backend-set`` values; the memory store is sized to keep the whole data set.

    Its default trace limit evicts old traces, which a completeness check would count as losses
    although the store does what it was told.
    """
    sized = []
    if storage == "memory":
        sized = [f"extensions.jaeger_storage.backends.main.memory.max_traces={planned_traces(settings)}"]
    return [*sized, *settings.backend_overrides]


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _query_percentiles(latencies: dict[str, list[float]]) -> dict[str, dict[str, float | None]]:
    result = {kind: percentiles(values) for kind, values in sorted(latencies.items())}
    result["all"] = percentiles([v for values in latencies.values() for v in values])
    return result
