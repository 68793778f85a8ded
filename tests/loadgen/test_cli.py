"""``hotrod load``: the Locust command it builds from flags and environment, and a real run through it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loadgen.bench.targets import Endpoints

HOTROD = str(Path(sys.executable).with_name("hotrod"))


def hotrod(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOADGEN_")}
    return subprocess.run(
        [HOTROD, *args], capture_output=True, text=True, timeout=120, env={**clean, **(env or {})}, cwd=cwd
    )


def test_demo_defaults_run_headless_against_the_frontend():
    command = hotrod("load", "--dry-run").stdout.split()
    assert command[1:4] == ["-m", "locust", "-f"]
    assert command[4].endswith("loadgen/hotrod_users.py")
    assert command[command.index("--host") + 1] == "http://127.0.0.1:8080"
    assert "--headless" in command and command[command.index("--run-time") + 1] == "1m"


def test_every_setting_can_come_from_the_environment():
    env = {"LOADGEN_USERS": "7", "LOADGEN_SPAWN_RATE": "3", "LOADGEN_RUN_TIME": "30s", "LOADGEN_HEADLESS": "false"}
    command = hotrod("load", "--dry-run", env=env).stdout.split()
    assert command[command.index("--users") + 1] == "7"
    assert command[command.index("--spawn-rate") + 1] == "3"
    assert "--headless" not in command and command[command.index("--web-port") + 1] == "8089"


def test_flags_win_over_the_environment_and_extra_arguments_pass_through():
    result = hotrod("load", "otlp", "--dry-run", "-u", "4", "--transport", "grpc", "--", "--seed", "9",
                    env={"LOADGEN_USERS": "7"})  # fmt: skip
    command = result.stdout.split()
    assert command[command.index("--users") + 1] == "4"
    assert command[-3:] == ["OtlpGrpcUser", "--seed", "9"]


def test_workers_connect_to_a_master():
    command = hotrod("load", "--dry-run", "--role", "worker", "--master-host", "10.0.0.5").stdout.split()
    assert command[-3:] == ["--worker", "--master-host", "10.0.0.5"]


def test_a_firehose_run_through_hotrod_load(backend: Endpoints, tmp_path: Path):
    result = hotrod(
        "load", "firehose", "--host", backend.otlp_http, "--query-url", backend.query, "-u", "2", "-r", "2",
        "-t", "3s", "--csv", str(tmp_path / "run"), "--", "--otlp-exports-per-second", "10", "--only-summary",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "otlp-http export" in (tmp_path / "run_stats.csv").read_text()
