"""The benchmark's results as JSON (everything) and Markdown (the tables people read), with the context to compare them.

Numbers from different days and machines only compare when the report says where they came
from: the machine (CPU model, cores, memory), the software versions, the seed, base time and
shape of the data (with a digest of the bytes sent), and the query mix.
"""

from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import psutil

from loadgen.bench.runner import BenchSettings, TargetReport, planned_traces
from loadgen.jaeger_queries import QUERY_MIX

_PROTOCOLS = {"http": "HTTP", "grpc": "gRPC"}  # settings' protocol as reports name it; results before it: http
PACKAGES = ("hotrod-py", "opentelemetry-proto", "protobuf", "sqlalchemy", "psycopg", "requests", "grpcio")


def cpu_model() -> str:
    """The CPU's model name as Linux tells it, else what the platform module knows: every report names it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    return {
        "cpu_model": cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
    }


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
        if commit.returncode == 0:
            found["git"] = commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return found


def document(settings: BenchSettings, reports: list[TargetReport]) -> dict:
    return {
        "settings": {
            "seed": settings.seed,
            "base_time_ns": settings.base_time_ns,
            "shape": asdict(settings.shape),
            "rates_spans_per_s": settings.rates,
            "step_seconds": settings.step_seconds,
            "senders": settings.senders,
            "protocol": settings.protocol,
            "query_concurrency": settings.query_concurrency,
            "query_rate_per_s": settings.query_rate,
            "query_mix": QUERY_MIX,
            "backend_overrides": settings.backend_overrides,
            "fault": settings.fault.describe() if settings.fault else None,
            "memory_max_traces": planned_traces(settings),
        },
        "machine": machine(),
        "versions": versions(),
        "targets": [asdict(report) for report in reports],
    }


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f} %"


def markdown(doc: dict) -> str:
    settings, host = doc["settings"], doc["machine"]
    lines = [
        "# Storage benchmark",
        "",
        f"Machine: {host['cpu_model']}, {host['logical_cores']} logical cores, {host['memory_gb']} GB; {host['os']}.  ",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in doc["versions"].items()) + ".  ",
        f"Data: seed {settings['seed']}, base time {settings['base_time_ns']} ns, shape "
        + ", ".join(f"{k}={v}" for k, v in settings["shape"].items())
        + f"; steps of {settings['step_seconds']:g} s at "
        + ", ".join(f"{r:,.0f}" for r in settings["rates_spans_per_s"])
        + f" spans/s; {settings['senders']} senders over OTLP/{_PROTOCOLS[settings.get('protocol', 'http')]},"
        + f" {settings['query_concurrency']} query threads"
        + f" at {settings['query_rate_per_s']:g} queries/s; "
        + f"memory store sized for {settings['memory_max_traces']:,} traces"
        + "".join(f"; --set {o}" for o in settings["backend_overrides"])
        + ".",
        "",
        "## Summary",
        "",
        "| target | best accepted spans/s | best stored spans/s | refused spans | complete | lost traces "
        "| query p50 / p95 / p99 ms | bytes/span on disk | backend peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target in doc["targets"]:
        steps = target["steps"]
        done = target["completeness"]
        query = target["query_ms"].get("all", {})
        lost = (done.get("missing_traces", 0) + done.get("incomplete_traces", 0)) if done else None
        lines.append(
            f"| {target['name']}{' (failed: ' + target['error'] + ')' if target['error'] else ''} "
            f"| {_number(max((s['accepted_spans_per_s'] for s in steps), default=None))} "
            f"| {_number(max((s['stored_spans_per_s'] or 0 for s in steps), default=None))} "
            f"| {_number(sum(s['refused_spans'] for s in steps))} "
            f"| {_percent(done.get('percent'))} | {_number(lost)} "
            f"| {_number(query.get('p50'), 1)} / {_number(query.get('p95'), 1)} / {_number(query.get('p99'), 1)} "
            f"| {_number(target['bytes_per_span'])} | {_number(target['backend_peak_rss_mb'])} |"
        )
    lines += [
        "",
        "## Steps",
        "",
        "| target | offered | sent | accepted | stored | drain s | refused | export p99 ms | query p99 ms "
        "| backend CPU % | driver CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target in doc["targets"]:
        for step in target["steps"]:
            lines.append(
                f"| {target['name']} | {_number(step['offered_spans_per_s'])} | {_number(step['sent_spans_per_s'])} "
                f"| {_number(step['accepted_spans_per_s'])} | {_number(step['stored_spans_per_s'])} "
                f"| {_number(step['drain_seconds'], 2)} | {_number(step['refused_spans'])} "
                f"| {_number(step['export_ms']['p99'], 1)} | {_number(step['query_ms']['all']['p99'], 1)} "
                f"| {_number(step['backend_cpu_percent'])} | {_number(step['driver_cpu_percent'])} |"
            )
    lines += [
        "",
        "## Queries (all steps)",
        "",
        "| target | query | count | p50 ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for target in doc["targets"]:
        for kind, stats in target["query_ms"].items():
            lines.append(
                f"| {target['name']} | {kind} | {stats['count']} | {_number(stats['p50'], 1)} "
                f"| {_number(stats['p95'], 1)} | {_number(stats['p99'], 1)} |"
            )
    faulted = [t for t in doc["targets"] if t.get("fault")]
    if faulted:
        lines += [
            "",
            "## Through the fault",
            "",
            "Injected into the last step while its senders kept sending; completeness counts every span the backend "
            "acknowledged in the whole run, the fault's step included.",
            "",
            "| target | fault | step | began s | ended s | refusals in the step | worst export ms | complete "
            "| lost traces |",
            "|---|---|---:|---:|---:|---|---:|---:|---:|",
        ]
        for target in faulted:
            fault, done = target["fault"], target["completeness"]
            lost = (done.get("missing_traces", 0) + done.get("incomplete_traces", 0)) if done else None
            refusals = ", ".join(f"{k}: {v}" for k, v in fault["refusals"].items()) or "none"
            failed = f" (failed: {fault['error']})" if fault.get("error") else ""
            lines.append(
                f"| {target['name']} | {fault['fault']}{failed} | {fault['step']} | {_number(fault['began_s'], 1)} "
                f"| {_number(fault['ended_s'], 1)} | {refusals} | {_number(fault['export_ms_max'], 1)} "
                f"| {_number(done.get('percent'), 2)} % | {_number(lost)} |"
            )
    losses = [
        t for t in doc["targets"] if t["completeness"].get("missing_ids") or t["completeness"].get("incomplete_ids")
    ]
    if losses:
        lines += ["", "## Losses", ""]
        for target in losses:
            done = target["completeness"]
            incomplete = [f"{k} ({v[1]}/{v[0]} spans)" for k, v in done["incomplete_ids"].items()]
            missing = ", ".join(done["missing_ids"]) or "none"
            lines.append(f"- {target['name']}: missing {missing}; incomplete {', '.join(incomplete) or 'none'}")
    lines += [
        "",
        "Stored spans/s: a step's accepted spans over the time until its last traces were queryable. "
        "Sent below offered: the backend answered too slowly for the senders to keep the schedule. "
        "Driver CPU near 100 % means the benchmark itself was the limit, not the backend.",
        "",
        "![throughput](throughput.png)",
        "![query latency](query-latency.png)",
        "",
    ]
    return "\n".join(lines)


def write(settings: BenchSettings, reports: list[TargetReport], output: Path) -> dict:
    """results.json and report.md in ``output``; the returned document is what was written."""
    from loadgen.bench.plots import plot  # matplotlib loads only when a report is written

    output.mkdir(parents=True, exist_ok=True)
    doc = document(settings, reports)
    (output / "results.json").write_text(json.dumps(doc, indent=2))
    (output / "report.md").write_text(markdown(doc))
    plot(doc, output)
    return doc
