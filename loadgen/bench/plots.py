"""The benchmark's two pictures: throughput against offered load, and query latency per target."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a display

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first


def plot(doc: dict, output: Path) -> None:
    _throughput(doc["targets"], output / "throughput.png")
    _query_latency(doc["targets"], output / "query-latency.png")


def _throughput(targets: list[dict], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(7, 4.5))
    top = 0.0
    for target in targets:
        steps = target["steps"]
        if not steps:
            continue
        offered = [s["offered_spans_per_s"] for s in steps]
        top = max(top, *offered)
        line = axes.plot(
            offered, [s["accepted_spans_per_s"] for s in steps], marker="o", label=f"{target['name']} accepted"
        )
        stored = [(s["offered_spans_per_s"], s["stored_spans_per_s"]) for s in steps if s["stored_spans_per_s"]]
        if stored:
            axes.plot(
                *zip(*stored, strict=True),
                marker="x",
                linestyle="--",
                color=line[0].get_color(),
                label=f"{target['name']} stored",
            )
    axes.plot([0, top], [0, top], color="grey", linewidth=0.8, label="offered")
    axes.set_xlabel("offered load (spans/s)")
    axes.set_ylabel("spans/s")
    axes.set_title("Ingest throughput vs. offered load")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _query_latency(targets: list[dict], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(7, 4.5))
    names = [t["name"] for t in targets]
    width = 0.25
    for offset, percentile in enumerate(("p50", "p95", "p99")):
        values = [(t["query_ms"].get("all") or {}).get(percentile) or 0 for t in targets]
        axes.bar([i + (offset - 1) * width for i in range(len(names))], values, width, label=percentile)
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel("ms")
    axes.set_title("Query latency (all queries, all steps)")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
