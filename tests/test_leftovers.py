"""A test run that leaves a process of its own running fails, naming the process (and then stops it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEAKY_TEST = """
import subprocess, sys

def test_starts_a_server_and_forgets_it():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)  # left-behind"])
"""


def test_a_run_that_leaves_a_process_behind_fails(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY_TEST)
    env = {**os.environ, "TEST_LEFTOVER_GRACE_S": "0.5"}
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 process(es) this run started are still running" in run.stdout
    assert "left-behind" in run.stdout
