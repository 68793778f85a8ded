"""One run of the jaeger-clickhouse benchmark: every target loaded with the same data, then queried.

Per storage: a fresh ``hotrod backend`` with the collector's core only
(OTLP receiver → the exporter's sending queue → storage; no span metrics or sampling, as Jaeger's
collector wrote straight to ClickHouse) and retention off (the data spans
days).  The load is timed until the last traces are queryable; the API
queries run on the live backend; the backend then stops, its data is
measured on disk and opened in this process for the storage-level queries.
An external target (a running Jaeger) gets the load and the API queries.

The loaded data stays in the output folder (ClickHouse's and SQLite's; a
PostgreSQL database is dropped) with what the queries need to know about it,
so ``queries_only`` can run the query phase again on it later, on a quieter
machine, without generating and loading 10 M spans again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from backend.storage.factory import create_storage
from loadgen.bench.jaeger_clickhouse.load import Loaded, Prepared, bodies, load, prepare, save, saved
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
KEPT = ("clickhouse", "sqlite")  # the storages whose data outlives the run (a PostgreSQL database is dropped)
# The yardstick: decode-and-walk over the first requests (a sample is enough), the best of a few rounds, so that a
# round slowed by other work on the machine does not flatter the ratio (one round varied by ~10% between runs).
WALK_SAMPLE = 200
WALK_ROUNDS = 3


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
    queries_only: bool = False  # the data a previous run loaded into ``output``, queried again


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
    if settings.queries_only:
        return _queries_again(settings, console)
    settings.output.mkdir(parents=True, exist_ok=True)
    generator = Tracegen(settings.shape, end_ns=time.time_ns(), seed=settings.seed)
    console.print(f"generating {settings.shape.spans:,} tracegen spans …")
    prepared = prepare(generator, settings.output / "tracegen.bin", console.print)
    save(prepared, settings.output)
    sample = [body for _, body in zip(range(WALK_SAMPLE), bodies(prepared.path), strict=False)]
    walk = max(decode_and_walk(sample) for _ in range(WALK_ROUNDS))
    results = [_storage(name, settings, prepared, console) for name in settings.storages]
    results += [_external(target, settings, prepared, console) for target in settings.externals]
    return Run(prepared, walk, results)


def _storage(name: str, settings: Settings, prepared: Prepared, console: Console) -> Result:
    result = Result(name)
    target = _target(name, settings)
    try:
        endpoints = target.start()
        console.print(f"{name}: loading …")
        cpu_before = target.usage.cpu_seconds() if target.usage else 0.0
        result.loaded = load(
            endpoints.otlp_http, endpoints.query, prepared, settings.senders, settings.drain_timeout_s, console.print
        )
        result.backend_cpu_s = target.usage.cpu_seconds() - cpu_before if target.usage else None
        result.error = result.loaded.failed
        if not result.error:
            console.print(f"{name}: {result.loaded.spans_per_s(prepared.spans):,.0f} spans/s")
            _query(target, result, prepared, settings, console)
    except Exception as exc:  # noqa: BLE001 - one failed target must not lose the others' results
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        target.stop()
        target.drop()
    return result


def _target(name: str, settings: Settings) -> BackendTarget:
    overrides = [*CORE, f"extensions.jaeger_storage.backends.main.{KIND_OF[name]}.retention=0"]
    return BackendTarget(name, settings.output / name, settings.postgres_url, [*overrides, *settings.backend_overrides])


def _query(target: BackendTarget, result: Result, prepared: Prepared, settings: Settings, console: Console) -> None:
    """The API queries on the running backend, then, once it has stopped, the storage queries in this process."""
    console.print(f"{result.name}: API queries …")
    result.api = on_api(target.endpoints.query, prepared, settings.repeats, console.print)
    target.stop()
    result.disk_bytes = target.disk_bytes()
    console.print(f"{result.name}: storage queries …")
    storage = create_storage(*target.storage_options(), f"bench: {result.name}")
    try:
        # ClickHouse keeps merged-away parts for a while: count the live tables, as Jaeger's figure does.
        result.disk_bytes = getattr(storage, "disk_bytes", lambda: result.disk_bytes)()
        result.storage = on_storage(storage.reader(), prepared, settings.repeats, console.print)
    finally:
        storage.close()


def _queries_again(settings: Settings, console: Console) -> Run:
    """The query phase alone, on the data and with the load figures of the run that loaded ``settings.output``."""
    prepared = saved(settings.output)
    previous = json.loads((settings.output / "results.json").read_text())
    loaded = {entry["name"]: entry for entry in previous["results"]}
    results = []
    for name in settings.storages:
        if name not in KEPT or name not in loaded or loaded[name]["error"]:
            raise ValueError(f"{settings.output} keeps no loaded {name} data (kept: {', '.join(KEPT)})")
        result = Result(name, Loaded(**loaded[name]["loaded"]), backend_cpu_s=loaded[name]["backend_cpu_s"])
        target = _target(name, settings)
        try:
            target.start()
            _query(target, result, prepared, settings, console)
        except Exception as exc:  # noqa: BLE001 - one failed target must not lose the others' results
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            target.stop()
        results.append(result)
    return Run(prepared, previous["decode_and_walk_spans_per_s"], results)


def _external(spec: tuple[str, str, str], settings: Settings, prepared: Prepared, console: Console) -> Result:
    name, otlp_http, query = spec
    result = Result(name)
    target = ExternalTarget(name, otlp_http, query)
    try:
        endpoints = target.start()
        console.print(f"{name}: loading …")
        result.loaded = load(
            endpoints.otlp_http, endpoints.query, prepared, settings.senders, settings.drain_timeout_s, console.print
        )
        result.error = result.loaded.failed
        if not result.error:
            result.api = on_api(endpoints.query, prepared, settings.repeats, console.print)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        result.error = f"{type(exc).__name__}: {exc}"
    return result
