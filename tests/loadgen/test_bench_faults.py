"""``hotrod bench --fault``: a step run through a storage outage or a killed backend, and the report showing
that everything acknowledged through it was stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadgen.bench.faults import BenchFault, parse_fault
from tests.loadgen.test_cli import hotrod


@pytest.mark.parametrize(
    ("fault", "storage"),
    [("storage-outage:2s", "sqlite"), ("storage-outage:2s", "redis"), ("kill-backend:1s", "sqlite")],
    ids=["outage", "redis-outage", "kill"],
)
def test_a_faulted_step_reports_every_acknowledged_span_stored(tmp_path: Path, fault: str, storage: str) -> None:
    output = tmp_path / "results"
    result = hotrod(
        "bench", "--storage", storage, "--rates", "1000", "--step-duration", "6s", "--seed", "5",
        "--fault", fault, "--output", str(output), cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    [target] = json.loads((output / "results.json").read_text())["targets"]
    assert target["fault"]["fault"] == fault and target["fault"]["error"] is None
    assert target["fault"]["ended_s"] - target["fault"]["began_s"] >= parse_fault(fault).seconds
    assert target["completeness"]["percent"] == 100.0
    assert target["completeness"]["expected_spans"] >= 1000
    assert "## Through the fault" in (output / "report.md").read_text()


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("storage-outage:20s", BenchFault("storage-outage", 20.0)),
        ("kill-backend", BenchFault("kill-backend", 2.0)),
        ("kill-backend:500ms", BenchFault("kill-backend", 0.5)),
    ],
)
def test_fault_specs_parse(text: str, parsed: BenchFault) -> None:
    assert parse_fault(text) == parsed


def test_an_outage_of_the_memory_storage_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = hotrod("bench", "--storage", "memory", "--fault", "storage-outage:1s", cwd=tmp_path)
    assert result.returncode == 2 and "needs sqlite, postgres or redis" in result.stderr
