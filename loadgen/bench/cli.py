"""``hotrod bench``: its command line; the runner and its dependencies are imported only when it runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from loadgen.bench.faults import BenchFault


def _fault(_ctx: click.Context, _param: click.Parameter, value: str | None) -> BenchFault | None:
    if value is None:
        return None
    from loadgen.bench.faults import parse_fault

    try:
        return parse_fault(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _rates(_ctx: click.Context, _param: click.Parameter, value: str) -> list[float]:
    try:
        rates = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected spans per second separated by commas, e.g. 2000,5000") from None
    if not rates or any(rate <= 0 for rate in rates):
        raise click.BadParameter("give at least one positive rate")
    return rates


def _seconds(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    from backend.core.durations import parse_duration_ns

    try:
        seconds = parse_duration_ns(value) / 1e9
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter("must be longer than zero")
    return seconds


def _external(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, str, str]]:
    targets = []
    for value in values:
        name, _, urls = value.partition("=")
        otlp, _, query = urls.partition(",")
        if not name or not otlp.startswith("http") or not query.startswith("http"):
            raise click.BadParameter(f"{value!r}: expected NAME=OTLP_HTTP_URL,QUERY_URL")
        targets.append((name, otlp, query))
    return targets


@click.command(context_settings={"show_default": True})
@click.option(
    "--dataset",
    type=click.Choice(["synthetic", "jaeger-clickhouse"]),
    default="synthetic",
    help="synthetic: rising ingest rates with queries alongside. jaeger-clickhouse: Jaeger's published ClickHouse "
    "benchmark (tracegen data loaded at full speed, then its query set), our figures beside Jaeger's.",
)
@click.option(
    "--storage",
    "storages",
    default=None,
    envvar="HOTROD_BENCH_STORAGES",
    help="Storages to start a fresh backend for, comma-separated: memory, sqlite, postgres, redis, clickhouse "
    "(default: memory,sqlite; clickhouse,sqlite for jaeger-clickhouse).",
)
@click.option(
    "--external",
    "externals",
    multiple=True,
    callback=_external,
    metavar="NAME=OTLP_URL,QUERY_URL",
    help="Also measure a running collector + Jaeger query API (e.g. a real Jaeger). Repeatable.",
)
@click.option(
    "--rates",
    default="2000,5000,10000,20000",
    callback=_rates,
    envvar="HOTROD_BENCH_RATES",
    help="Offered load of each step, spans/s.",
)
@click.option("--step-duration", default="15s", callback=_seconds, envvar="HOTROD_BENCH_STEP_DURATION")
@click.option("--seed", type=int, default=1, envvar="HOTROD_BENCH_SEED", help="Seed of the trace data.")
@click.option(
    "--base-time-ns",
    type=int,
    default=0,
    envvar="HOTROD_BENCH_BASE_TIME_NS",
    help="Start time of the first trace (0: now, to the minute); reuse it to resend byte-identical data.",
)
@click.option("--services", type=click.IntRange(min=1), default=5)
@click.option("--depth", type=click.IntRange(min=1), default=4)
@click.option("--spans-per-trace", type=click.IntRange(min=1), default=10)
@click.option("--attributes", type=click.IntRange(min=0), default=5, help="Attributes per span.")
@click.option("--attribute-size", type=click.IntRange(min=0), default=16, help="Characters per attribute value.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.02)
@click.option("--traces-per-request", type=click.IntRange(min=1), default=10)
@click.option("--senders", type=click.IntRange(min=1), default=16, help="Concurrent export connections.")
@click.option(
    "--protocol", type=click.Choice(["http", "grpc"]), default="http", show_default=True,
    help="How exports are sent: OTLP/HTTP (protobuf) or OTLP/gRPC; grpc needs started backends (no --external).",
)  # fmt: skip
@click.option("--query-concurrency", type=click.IntRange(min=0), default=1, help="Query threads during ingest.")
@click.option(
    "--query-rate", type=click.FloatRange(min=0, min_open=True), default=None,
    help="Queries a second during ingest, all query threads together: a fixed pace, as people at the UI ask "
    "(default 10, loadgen.bench.driver.QUERY_RATE).",
)  # fmt: skip
@click.option(
    "--postgres-url",
    default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    envvar="HOTROD_BENCH_POSTGRES_URL",
    help="Server where a scratch database is created and dropped.",
)
@click.option(
    "--backend-set",
    "backend_overrides",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Passed to each started backend as --set "
    "(e.g. exporters.jaeger_storage_exporter.sending_queue.queue_size=50000). Repeatable.",
)
@click.option("--drain-timeout", default="60s", callback=_seconds, help="How long a step may take to become queryable.")
@click.option(
    "--traces",
    type=click.IntRange(min=1),
    default=100_000,
    help="jaeger-clickhouse: traces of 10 spans to load (Jaeger's reference run: 1000000, i.e. 10 M spans).",
)
@click.option("--days", type=click.FloatRange(min=0.001), default=10.0, help="jaeger-clickhouse: time the data spans.")
@click.option("--query-repeats", type=click.IntRange(min=1), default=20, help="jaeger-clickhouse: runs of each query.")
@click.option(
    "--queries-only",
    is_flag=True,
    help="jaeger-clickhouse: load nothing; run the queries again on the data an earlier run left in --output "
    "(clickhouse, sqlite), into queries-DATE.md beside its report.",
)
@click.option(
    "--fault",
    callback=_fault,
    default=None,
    metavar="storage-outage:20s|kill-backend[:2s]",
    help="Inject a fault into the last step of every started backend: its storage refuses writes and reads "
    "(sqlite, postgres, redis) or the backend is killed with SIGKILL and restarted; the report shows completeness "
    "through it.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for report.md, results.json and plots (default bench-results/<time>).",
)
def bench(
    dataset: str,
    storages: str | None,
    traces: int,
    days: float,
    query_repeats: int,
    queries_only: bool,
    externals,
    rates,
    step_duration,
    seed,
    base_time_ns,
    senders,
    protocol,
    query_concurrency,
    query_rate,
    postgres_url,
    drain_timeout,
    backend_overrides,
    fault,
    output: Path | None,
    **shape,
) -> None:
    """Benchmark trace storages: fresh backend per storage, rising ingest rates with queries, completeness check.

    \b
    Examples:
      hotrod bench                                            # memory and SQLite, ~2 minutes
      hotrod bench --storage memory,sqlite,postgres --rates 5000,10000,20000,40000 --step-duration 15s
      hotrod bench --storage memory --external jaeger=http://127.0.0.1:4318,http://127.0.0.1:16686
      hotrod bench --dataset jaeger-clickhouse --traces 1000000 --storage clickhouse,sqlite,postgres
      hotrod bench --storage sqlite,postgres --fault storage-outage:20s
      hotrod bench --storage memory --protocol grpc --rates 20000,60000
    Exit status 1 when a target failed or lost spans (the report lists the trace ids).
    """
    from rich.console import Console

    from loadgen.bench import report, runner
    from loadgen.synthetic import TraceShape

    if storages is None:
        storages = "clickhouse,sqlite" if dataset == "jaeger-clickhouse" else "memory,sqlite"
    chosen = [name.strip() for name in storages.split(",") if name.strip()]
    known = {"sqlite", "postgres", "redis", "clickhouse"} | ({"memory"} if dataset == "synthetic" else set())
    unknown = set(chosen) - known
    if unknown:
        raise click.BadParameter(f"unknown storage {', '.join(sorted(unknown))}", param_hint="--storage")
    if fault is not None and fault.kind == "storage-outage" and "memory" in chosen:
        raise click.BadParameter(
            "a storage outage needs sqlite, postgres or redis; memory cannot go away", param_hint="--fault"
        )
    if protocol == "grpc" and (externals or dataset != "synthetic"):
        raise click.BadParameter(
            "OTLP/gRPC goes to started backends of the synthetic dataset only, not --external",
            param_hint="--protocol",
        )
    if queries_only and (dataset != "jaeger-clickhouse" or output is None or externals):
        raise click.UsageError(
            "--queries-only needs --dataset jaeger-clickhouse, the --output of that run and no --external"
        )
    output = output or Path("bench-results") / time.strftime("%Y%m%d-%H%M%S")
    if dataset == "jaeger-clickhouse":
        _bench_jaeger_clickhouse(
            chosen, externals, traces, days, seed, senders, query_repeats, postgres_url, output, drain_timeout,
            list(backend_overrides), queries_only,
        )  # fmt: skip
        return
    try:
        trace_shape = TraceShape(**shape)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    now = time.time_ns()
    settings = runner.BenchSettings(
        storages=chosen, externals=externals, rates=rates, step_seconds=step_duration, shape=trace_shape, seed=seed,
        base_time_ns=base_time_ns or now - now % 60_000_000_000, senders=senders,
        query_concurrency=query_concurrency, postgres_url=postgres_url, output=output.resolve(),
        drain_timeout_s=drain_timeout, backend_overrides=list(backend_overrides), fault=fault, protocol=protocol,
        **({"query_rate": query_rate} if query_rate else {}),
    )  # fmt: skip
    console = Console(soft_wrap=True)
    results = runner.run(settings, console)
    report.write(settings, results, settings.output)
    console.print(f"report: {settings.output / 'report.md'}")
    failed = [r.name for r in results if r.error or r.completeness.get("percent") != 100.0]
    if failed:
        console.print(f"[red]incomplete or failed: {', '.join(failed)}[/red]")
        raise SystemExit(1)


def _bench_jaeger_clickhouse(
    storages: list[str],
    externals: list[tuple[str, str, str]],
    traces: int,
    days: float,
    seed: int,
    senders: int,
    repeats: int,
    postgres_url: str,
    output: Path,
    drain_timeout: float,
    backend_overrides: list[str],
    queries_only: bool,
) -> None:
    from rich.console import Console

    from loadgen.bench.jaeger_clickhouse import report, run
    from loadgen.tracegen import TracegenShape

    shape = TracegenShape(traces=traces, span_ns=int(days * 86_400_000_000_000))
    settings = run.Settings(
        storages=storages, externals=externals, shape=shape, seed=seed, senders=senders, repeats=repeats,
        postgres_url=postgres_url, output=output.resolve(), drain_timeout_s=drain_timeout,
        backend_overrides=backend_overrides, queries_only=queries_only,
    )  # fmt: skip
    console = Console(soft_wrap=True)
    try:
        result = run.run(settings, console)
    except ValueError as exc:  # --queries-only on a folder without loaded data
        raise click.UsageError(str(exc)) from None
    path = report.write(settings, result)
    console.print(path.read_text())
    failed = [r.name for r in result.results if r.error]
    if failed:
        console.print(f"[red]failed: {', '.join(failed)}[/red]")
        raise SystemExit(1)
