"""``hotrod bench`` on a tiny matrix: a report in every format, with nothing lost."""

from __future__ import annotations

import json
import subprocess
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


def test_the_query_mix_runs_at_the_pace_asked_for(tmp_path: Path):
    result = hotrod(
        "bench", "--storage", "memory", "--rates", "500", "--step-duration", "2s", "--query-rate", "4",
        "--output", str(tmp_path / "out"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["settings"]["query_rate_per_s"] == 4.0
    assert 0 < doc["targets"][0]["query_ms"]["all"]["count"] <= 4 * 2 + 2  # 4 a second over 2 s, give or take a slot
    assert "at 4 queries/s" in (tmp_path / "out" / "report.md").read_text()


def test_a_query_rate_that_is_not_positive_is_refused(tmp_path: Path):
    result = hotrod("bench", "--storage", "memory", "--query-rate", "0", "--output", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "--query-rate" in result.stderr


def test_a_run_over_otlp_grpc_stores_every_span_and_says_so(tmp_path: Path):
    result = hotrod(
        "bench", "--storage", "memory", "--protocol", "grpc", "--rates", "500", "--step-duration", "1s",
        "--output", str(tmp_path / "out"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["settings"]["protocol"] == "grpc"
    assert doc["targets"][0]["completeness"]["percent"] == 100.0
    assert "16 senders over OTLP/gRPC" in (tmp_path / "out" / "report.md").read_text()


def test_otlp_grpc_to_an_external_target_is_refused_before_anything_starts(tmp_path: Path):
    result = hotrod(
        "bench", "--protocol", "grpc", "--external", "jaeger=http://127.0.0.1:4318,http://127.0.0.1:16686",
        "--output", str(tmp_path / "out"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--protocol" in result.stderr
    assert not (tmp_path / "out").exists()


def jaeger_clickhouse(output: Path, *more: str) -> subprocess.CompletedProcess:
    """A tiny jaeger-clickhouse run (400 spans) of the clickhouse storage into ``output``."""
    return hotrod(
        "bench", "--dataset", "jaeger-clickhouse", "--storage", "clickhouse", "--traces", "40", "--days", "0.01",
        "--query-repeats", "1", "--output", str(output), *more, cwd=output.parent,
    )  # fmt: skip


def test_the_jaeger_clickhouse_dataset_reports_our_figures_beside_jaegers(tmp_path: Path):
    output = tmp_path / "results"
    result = jaeger_clickhouse(output)
    assert result.returncode == 0, result.stdout + result.stderr
    report = (output / "report.md").read_text()
    assert "| Jaeger + ClickHouse (published) | 52,129 |" in report
    assert "| search by attribute | 1,769 |" in report
    doc = json.loads((output / "results.json").read_text())
    (clickhouse,) = doc["results"]
    assert clickhouse["error"] == "" and clickhouse["disk_bytes"] > 0
    assert clickhouse["storage"]["get-trace"]["results"] == 10 and clickhouse["api"]["services"]["results"] == 10


def test_queries_only_queries_the_data_a_run_kept_again_beside_that_runs_load_figures(tmp_path: Path):
    output = tmp_path / "results"
    assert jaeger_clickhouse(output).returncode == 0
    again = hotrod(
        "bench", "--dataset", "jaeger-clickhouse", "--storage", "clickhouse", "--query-repeats", "1", "--queries-only",
        "--output", str(output), cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "loading" not in again.stdout and "search by attribute: p50" in again.stdout  # said as it goes
    (queries,) = output.glob("queries-*.json")
    (clickhouse,) = json.loads(queries.read_text())["results"]
    assert clickhouse["storage"]["get-trace"]["results"] == 10 and clickhouse["api"]["services"]["results"] == 10
    (loaded,) = json.loads((output / "results.json").read_text())["results"]
    assert (clickhouse["loaded"], clickhouse["backend_cpu_s"]) == (loaded["loaded"], loaded["backend_cpu_s"])
    report = queries.with_suffix(".md").read_text()
    assert "Queries run again on" in report and "- Data: 40 traces of 10 spans" in report  # the loaded data's shape


def test_queries_only_on_a_folder_without_a_loaded_run_says_what_is_missing(tmp_path: Path):
    result = hotrod(
        "bench", "--dataset", "jaeger-clickhouse", "--storage", "clickhouse", "--queries-only", "--output",
        str(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{tmp_path} holds no loaded data" in result.stderr and "prepared.json is missing" in result.stderr
