"""One run of the jaeger-clickhouse benchmark: every target loaded with the same data, then queried.

Per storage: a fresh ``hotrod backend`` with the collector's core only
(OTLP receiver → the exporter's sending queue → storage; no span metrics or sampling, as Jaeger's
collector wrote straight to ClickHouse) and retention off (the data spans
days).  The load is timed until the last traces are queryable; the API
queries run on the live backend; the backend then stops, its data is
measured on disk and opened in this process for the storage-level queries.
An external target (a running Jaeger) gets the load and the API queries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from backend.storage.factory import create_storage
from loadgen.bench.jaeger_clickhouse.load import Loaded, Prepared, bodies, load, prepare
from loadgen.bench.jaeger_clickhouse.queries import Timing, on_api, on_storage
from loadgen.bench.reference import decode_and_walk
from loadgen.bench.targets import BackendTarget, ExternalTarget
from loadgen.tracegen import Tracegen, TracegenShape

CORE = [
    "service.extensions=[file_storage, jaeger_storage, jaeger_query, healthcheckv2]",
    "service.pipelines.traces.receivers=[otlp]",
    "service.pipelines.traces.processors=[]",
]
KIND_OF = {"sqlite": "sql", "postgres": "sql", "clickhouse": "clickhouse"}
STORAGES = tuple(KIND_OF)


@dataclass(frozen=True)
class Settings:
    storages: list[str]
    externals: list[tuple[str, str, str]]  # (name, OTLP/HTTP base URL, query base URL)
    shape: TracegenShape
    seed: int
    senders: int
    repeats: int
    postgres_url: str
    output: Path
    drain_timeout_s: float
    backend_overrides: list[str] = field(default_factory=list)


@dataclass
class Result:
    name: str
    loaded: Loaded | None = None
    disk_bytes: int | None = None
    backend_cpu_s: float | None = None  # the backend process's CPU during the load (not known for an external)
    api: dict[str, Timing] = field(default_factory=dict)
    storage: dict[str, Timing] = field(default_factory=dict)
    error: str = ""


@dataclass
class Run:
    prepared: Prepared
    decode_and_walk: float  # spans per CPU-second, same payloads
    results: list[Result]


def run(settings: Settings, console: Console) -> Run:
    settings.output.mkdir(parents=True, exist_ok=True)
    generator = Tracegen(settings.shape, end_ns=time.time_ns(), seed=settings.seed)
    console.print(f"generating {settings.shape.spans:,} tracegen spans …")
    prepared = prepare(generator, settings.output / "tracegen.bin")
    sample = (body for _, body in zip(range(200), bodies(prepared.path), strict=False))
    walk = decode_and_walk(sample)  # a sample is enough
    results = [_storage(name, settings, prepared, console) for name in settings.storages]
    results += [_external(target, settings, prepared, console) for target in settings.externals]
    return Run(prepared, walk, results)


def _storage(name: str, settings: Settings, prepared: Prepared, console: Console) -> Result:
    result = Result(name)
    kind = KIND_OF[name]
    overrides = [*CORE, f"extensions.jaeger_storage.backends.main.{kind}.retention=0", *settings.backend_overrides]
    target = BackendTarget(name, settings.output / name, settings.postgres_url, overrides)
    try:
        endpoints = target.start()
        console.print(f"{name}: loading …")
        cpu_before = target.usage.cpu_seconds() if target.usage else 0.0
        result.loaded = load(endpoints.otlp_http, endpoints.query, prepared, settings.senders, settings.drain_timeout_s)
        result.backend_cpu_s = target.usage.cpu_seconds() - cpu_before if target.usage else None
        result.error = result.loaded.failed
        if not result.error:
            console.print(f"{name}: {result.loaded.spans_per_s(prepared.spans):,.0f} spans/s; API queries …")
            result.api = on_api(endpoints.query, prepared, settings.repeats)
        target.stop()
        result.disk_bytes = target.disk_bytes()
        if not result.error:
            console.print(f"{name}: storage queries …")
            storage = create_storage(*target.storage_options(), f"bench: {name}")
            try:
                # ClickHouse keeps merged-away parts for a while: count the live tables, as Jaeger's figure does.
                result.disk_bytes = getattr(storage, "disk_bytes", lambda: result.disk_bytes)()
                result.storage = on_storage(storage.reader(), prepared, settings.repeats)
            finally:
                storage.close()
    except Exception as exc:  # noqa: BLE001 - one failed target must not lose the others' results
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        target.stop()
        target.drop()
    return result


def _external(spec: tuple[str, str, str], settings: Settings, prepared: Prepared, console: Console) -> Result:
    name, otlp_http, query = spec
    result = Result(name)
    target = ExternalTarget(name, otlp_http, query)
    try:
        endpoints = target.start()
        console.print(f"{name}: loading …")
        result.loaded = load(endpoints.otlp_http, endpoints.query, prepared, settings.senders, settings.drain_timeout_s)
        result.error = result.loaded.failed
        if not result.error:
            result.api = on_api(endpoints.query, prepared, settings.repeats)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        result.error = f"{type(exc).__name__}: {exc}"
    return result
