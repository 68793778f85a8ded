"""The firehose users against a real backend: exports counted, every accepted trace stored, refusals reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loadgen.bench.targets import Endpoints
from loadgen.bench.verify import verify
from loadgen.record import SentRecord
from tests.loadgen.conftest import LOADGEN, LocustRun, run_locust
from tests.support import free_port, wait_for


def assert_all_stored(backend: Endpoints, accepted: dict[str, int]) -> None:
    """Every accepted trace becomes queryable with all its spans (after the backend's batching delay)."""
    wait_for(lambda: verify(backend.query, accepted).complete, timeout=30, what="every accepted trace stored")


SMALL = ["--otlp-spans-per-trace", "5", "--otlp-traces-per-request", "4", "--otlp-exports-per-second", "20"]


def firehose(tmp_path: Path, host: str, user: str, run_time: str = "3s") -> tuple[LocustRun, Path]:
    """One firehose user class, SMALL, against ``host``: the run, and the record of what it sent."""
    record_file = tmp_path / "sent.json"
    run = run_locust(
        tmp_path, ["otlp_users.py"], "--host", host, "--record-file", str(record_file), *SMALL, user, run_time=run_time
    )
    return run, record_file


def assert_exported(run: LocustRun, name: str) -> None:
    """The run ended well, with at least the 20 exports a second that SMALL asks for, none failed."""
    assert run.returncode == 0, run.output
    assert run.count(name) >= 20
    assert run.failures(name) == 0


def test_http_exports_are_counted_and_every_accepted_trace_is_stored(backend: Endpoints, tmp_path: Path):
    run, record_file = firehose(tmp_path, backend.otlp_http, "OtlpHttpUser")
    assert_exported(run, "otlp-http export")
    sent = SentRecord.load(record_file)
    assert len(sent.accepted) == run.count("otlp-http export") * 4
    assert not sent.refused
    assert_all_stored(backend, sent.accepted)


def test_grpc_exports_are_counted_and_stored(backend: Endpoints, tmp_path: Path):
    run, record_file = firehose(tmp_path, backend.otlp_grpc, "OtlpGrpcUser")
    assert_exported(run, "otlp-grpc export")
    assert_all_stored(backend, SentRecord.load(record_file).accepted)


def test_an_unreachable_collector_counts_as_failed_exports_and_refused_traces(tmp_path: Path, refusing_port: int):
    run, record_file = firehose(tmp_path, f"http://127.0.0.1:{refusing_port}", "OtlpHttpUser", run_time="2s")
    assert run.returncode == 1
    assert run.failures("otlp-http export") == run.count("otlp-http export") > 0
    sent = SentRecord.load(record_file)
    assert not sent.accepted and sent.refused


def test_query_users_fetch_the_traces_a_firehose_run_recorded(backend: Endpoints, tmp_path: Path):
    sender, record_file = firehose(tmp_path, backend.otlp_http, "OtlpHttpUser", run_time="2s")
    assert sender.returncode == 0, sender.output
    run = run_locust(
        tmp_path, ["query_users.py"], "--host", backend.query, "--query-trace-ids", str(record_file),
        "--query-think-time", "0.05", "--query-min-age", "0",
    )  # fmt: skip
    assert run.returncode == 0, run.output
    assert run.count("trace-by-id") > 5
    assert run.count("find-by-service") + run.count("find-by-attribute") > 0
    assert run.total_failures() == 0


def test_firehose_and_queries_run_together_in_one_locust(backend: Endpoints, tmp_path: Path):
    run = run_locust(
        tmp_path, ["otlp_users.py", "query_users.py"], "--otlp-http-endpoint", backend.otlp_http,
        "--query-endpoint", backend.query, "--query-min-age", "1", "--query-think-time", "0.1", *SMALL,
        "OtlpHttpUser", "JaegerQueryUser", run_time="4s",
    )  # fmt: skip
    assert run.returncode == 0, run.output
    assert run.count("otlp-http export") > 0
    assert run.count("trace-by-id") > 0


def test_a_master_with_a_worker_runs_the_firehose_and_each_worker_saves_its_record(backend: Endpoints, tmp_path: Path):
    master_port = free_port()
    record_file = tmp_path / "sent.json"
    worker = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOADGEN / "otlp_users.py"), "--worker",
         "--master-host", "127.0.0.1", "--master-port", str(master_port), "--record-file", str(record_file), *SMALL],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        run = run_locust(
            tmp_path, ["otlp_users.py"], "--master", "--master-bind-port", str(master_port), "--expect-workers", "1",
            "--host", backend.otlp_http, "--record-file", str(record_file), *SMALL, "OtlpHttpUser",
        )  # fmt: skip
        assert worker.wait(timeout=30) == 0
    finally:
        worker.kill()
    assert run.returncode == 0, run.output
    assert run.count("otlp-http export") > 0
    sent = SentRecord.load(Path(f"{record_file}.worker0"))
    assert len(sent.accepted) == run.count("otlp-http export") * 4
    assert_all_stored(backend, sent.accepted)
