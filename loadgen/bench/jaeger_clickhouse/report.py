"""The report: our figures beside Jaeger's published ones, each with the machine it was measured on."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path

from loadgen.bench.jaeger_clickhouse.queries import API_LIMIT, QUERY_NAMES, STORAGE_LIMIT, Timing
from loadgen.bench.jaeger_clickhouse.run import WALK_ROUNDS, WALK_SAMPLE, Result, Run, Settings
from loadgen.bench.report import cpu_model

# internal/storage/v2/clickhouse/BENCHMARKING.md in jaegertracing/jaeger (v2.17): averages of 3 runs, server-side SQL.
JAEGER_MACHINE = "Oracle Cloud VM.Standard2.4: 4 OCPUs (Xeon Platinum 8167M), 60 GB, ClickHouse 26 single node"
JAEGER_SPANS = 10_000_000
JAEGER_INSERT_SPANS_PER_S = 52_129
JAEGER_BYTES_PER_SPAN = 722.09 * 2**20 / JAEGER_SPANS
JAEGER_QUERY_MS = {
    "services": 3,
    "operations": 4,
    "get-trace": 101,
    "search by service": 37,
    "search by operation": 38,
    "search by duration": 43,
    "search by time range": 47,
    "search by attribute": 1769,
    "search by all filters": 139,
}


def machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu_model()}), {platform.system()}; load average at the end {load}"


def _cell(timing: Timing | None) -> str:
    return "–" if timing is None else f"{timing.p50_ms:g} / {timing.p99_ms:g}"


def markdown(settings: Settings, run: Run) -> str:
    spans = run.prepared.spans
    shape = run.prepared.shape  # the loaded data's, also when only the queries run again
    lines = [
        f"# Jaeger's ClickHouse benchmark, reproduced ({spans:,} tracegen spans)",
        "",
        f"- **Ours**: {machine()}.",
        f"- **Jaeger + ClickHouse (published)**: {JAEGER_MACHINE}; {JAEGER_SPANS:,} spans.",
        f"- Data: {shape.traces:,} traces of {shape.children + 1} spans, "
        f"{shape.services} services, {shape.attributes} attributes per child span "
        f"({shape.attribute_keys} keys × {shape.attribute_values} values), "
        f"over {shape.span_ns / 86_400e9:g} days; decode-and-walk on the same requests: "
        f"{run.decode_and_walk:,.0f} spans per CPU-second (the best of {WALK_ROUNDS} rounds over the first "
        f"{WALK_SAMPLE} requests).",
        *_queries_only_note(settings),
        "",
        "## Ingest (OTLP/HTTP in → queryable) and disk",
        "",
        "*spans/s*: wall clock, first request sent → last traces queryable. *per CPU-second*: spans over the "
        "backend process's CPU time (engine threads included) during the load, which a busy machine does not "
        "change; decode-and-walk is per CPU-second too.",
        "",
        "| target | spans/s | per CPU-second | × decode-and-walk | bytes/span on disk | retries | error |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| Jaeger + ClickHouse (published) | {JAEGER_INSERT_SPANS_PER_S:,} | – | – "
        f"| {JAEGER_BYTES_PER_SPAN:.0f} | – | |",
    ]
    for result in run.results:
        rate = result.loaded.spans_per_s(spans) if result.loaded and not result.error else 0
        per_span = f"{result.disk_bytes / spans:.0f}" if result.disk_bytes else "–"
        retries = result.loaded.retries if result.loaded else "–"
        per_cpu = spans / result.backend_cpu_s if rate and result.backend_cpu_s else 0
        ratio = f"{per_cpu / run.decode_and_walk:.2f}" if per_cpu else "–"
        cpu_cell = f"{per_cpu:,.0f}" if per_cpu else "–"
        lines.append(
            f"| {result.name} | {rate:,.0f} | {cpu_cell} | {ratio} | {per_span} | {retries} | {result.error} |"
        )
    lines += [
        "",
        "## Queries, p50 / p99 ms",
        "",
        f"*storage*: the plug-in's reader in-process, trace ids only, limit {STORAGE_LIMIT} (the work of Jaeger's "
        f"SQL). *API*: the Jaeger query API over HTTP, whole traces, limit {API_LIMIT}, service always given "
        "(the API requires it). Jaeger's figures are averages of 3 runs of the SQL on the server.",
        "",
    ]
    columns: list[tuple[str, Result | None, str]] = [("Jaeger + ClickHouse (published avg)", None, "")]
    columns += [(f"{r.name} storage", r, "storage") for r in run.results if r.storage]
    columns += [(f"{r.name} API", r, "api") for r in run.results if r.api]
    lines.append("| query | " + " | ".join(title for title, _, _ in columns) + " |")
    lines.append("|---|" + "---:|" * len(columns))
    for query in QUERY_NAMES:
        cells = [f"{JAEGER_QUERY_MS[query]:,}"]
        for _, target, level in columns[1:]:
            timings: dict[str, Timing] = getattr(target, level)
            cells.append(_cell(timings.get(query)))
        lines.append(f"| {query} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _queries_only_note(settings: Settings) -> list[str]:
    if not settings.queries_only:
        return []
    return [
        f"- Queries run again on {time.strftime('%Y-%m-%d %H:%M')} on the data loaded earlier into this folder; "
        "the ingest figures and the decode-and-walk rate are that load's (results.json)."
    ]


def write(settings: Settings, run: Run) -> Path:
    """report.md and results.json; queries-DATE.md and .json beside them when only the queries ran again."""
    stem = time.strftime("queries-%Y%m%d-%H%M%S") if settings.queries_only else "report"
    text = markdown(settings, run)
    (settings.output / f"{stem}.md").write_text(text)
    document = {
        "spans": run.prepared.spans,
        "decode_and_walk_spans_per_s": run.decode_and_walk,
        "machine": machine(),
        "results": [asdict(result) for result in run.results],
    }
    results = "results" if stem == "report" else stem
    (settings.output / f"{results}.json").write_text(json.dumps(document, indent=2, default=str))
    return settings.output / f"{stem}.md"
