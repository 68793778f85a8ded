"""``hotrod bench`` on a tiny matrix: a report in every format, with nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

from tests.loadgen.test_cli import hotrod


def test_tiny_matrix_reports_full_completeness_for_memory_and_sqlite(tmp_path: Path):
    output = tmp_path / "results"
    result = hotrod(
        "bench", "--storage", "memory,sqlite", "--rates", "500,1500", "--step-duration", "1s", "--seed", "3",
        "--output", str(output), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads((output / "results.json").read_text())
    assert [target["name"] for target in doc["targets"]] == ["memory", "sqlite"]
    for target in doc["targets"]:
        assert target["error"] is None
        assert target["completeness"]["percent"] == 100.0
        assert target["completeness"]["expected_spans"] >= 2000
        assert [step["offered_spans_per_s"] for step in target["steps"]] == [500, 1500]
        assert target["query_ms"]["all"]["count"] > 0
    sqlite = doc["targets"][1]
    assert sqlite["bytes_per_span"] > 0
    assert doc["targets"][0]["dataset_sha256"] == sqlite["dataset_sha256"]  # same seed, same bytes
    assert doc["settings"]["seed"] == 3 and doc["machine"]["logical_cores"] >= 1
    report = (output / "report.md").read_text()
    assert "| memory |" in report and "| sqlite |" in report and "100.00 %" in report
    assert (output / "throughput.png").stat().st_size > 0
    assert (output / "query-latency.png").stat().st_size > 0


def test_unknown_storage_is_refused_before_anything_starts(tmp_path: Path):
    result = hotrod("bench", "--storage", "memory,cassandra", "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown storage cassandra" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unreachable_external_target_fails_the_run_but_keeps_the_others_results(tmp_path: Path):
    result = hotrod(
        "bench", "--storage", "memory", "--external", "nowhere=http://127.0.0.1:9,http://127.0.0.1:9",
        "--rates", "200", "--step-duration", "1s", "--output", str(tmp_path / "out"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["targets"][0]["completeness"]["percent"] == 100.0
    assert "http://127.0.0.1:9 did not answer" in doc["targets"][1]["error"]


def test_the_jaeger_clickhouse_dataset_reports_our_figures_beside_jaegers(tmp_path: Path):
    output = tmp_path / "results"
    result = hotrod(
        "bench", "--dataset", "jaeger-clickhouse", "--storage", "clickhouse", "--traces", "40", "--days", "0.01",
        "--query-repeats", "1", "--output", str(output), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = (output / "report.md").read_text()
    assert "| Jaeger + ClickHouse (published) | 52,129 |" in report
    assert "| search by attribute | 1,769 |" in report
    doc = json.loads((output / "results.json").read_text())
    (clickhouse,) = doc["results"]
    assert clickhouse["error"] == "" and clickhouse["disk_bytes"] > 0
    assert clickhouse["storage"]["get-trace"]["results"] == 10 and clickhouse["api"]["services"]["results"] == 10
