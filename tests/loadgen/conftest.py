"""A real backend to aim the load at, and a way to run a locustfile headless and read its stats.

Locust runs as its own process (never imported here: it would gevent-patch pytest itself).  Final
counts come from ``--json-file`` (written after the last request; the CSV stats file is rewritten
only every second and may miss the end), the user-count history from the ``--csv`` history file.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadgen.bench.targets import BackendTarget, Endpoints

LOADGEN = Path(__file__).resolve().parents[2] / "loadgen"
LOCUST_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    target = BackendTarget("memory", tmp_path_factory.mktemp("backend"), postgres_url="")
    try:
        yield target.start()
    finally:
        target.stop()


@dataclass
class LocustRun:
    returncode: int
    output: str
    stats: dict[str, dict]  # request name → Locust's final stats entry
    history: list[dict[str, str]]  # rows of <prefix>_stats_history.csv, once a second

    def count(self, name: str) -> int:
        return int(self.stats[name]["num_requests"]) if name in self.stats else 0

    def failures(self, name: str) -> int:
        return int(self.stats[name]["num_failures"]) if name in self.stats else 0

    def total_failures(self) -> int:
        return sum(int(entry["num_failures"]) for entry in self.stats.values())


def run_locust(workdir: Path, files: list[str], *args: str, run_time: str = "3s", users: int = 2) -> LocustRun:
    """``locust -f loadgen/<files> --headless`` for ``run_time``; its exit status, output and CSV stats."""
    prefix = workdir / "stats"
    command = [
        sys.executable, "-m", "locust", "-f", ",".join(str(LOADGEN / f) for f in files), "--headless",
        "-u", str(users), "-r", str(users), "-t", run_time, "--csv", str(prefix), "--csv-full-history",
        "--json-file", str(prefix), "--only-summary",
        "--stop-timeout", "5", *args,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=LOCUST_TIMEOUT_S)
    stats = {entry["name"]: entry for entry in json.loads(Path(f"{prefix}.json").read_text())}
    with open(f"{prefix}_stats_history.csv", newline="") as handle:
        history = [row for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]
    return LocustRun(done.returncode, done.stdout + done.stderr, stats, history)
