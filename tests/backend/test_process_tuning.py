"""The allocator settings a backend process takes: freed buffers are reused, not faulted in again.

Each case runs in a fresh interpreter (the settings are process-wide) and counts its own minor page faults
(``ru_minflt``) while it allocates and frees buffers of a request's size up to a large batch's, as ingest does.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

CHURN = """
import resource, sys
from backend.core.process_tuning import tune_allocator

applied = tune_allocator() if sys.argv[1] == "tuned" else False
sizes = (300_000, 2_000_000, 20_000_000)
for size in sizes:  # the first of each may map fresh memory
    buffer = bytearray(size)
    del buffer
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    for size in sizes:
        buffer = bytearray(size)  # zero-filled: every page is touched
        del buffer
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def churn(mode: str, **env: str) -> tuple[bool, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    done = subprocess.run(
        [sys.executable, "-c", CHURN, mode], capture_output=True, text=True, timeout=60, check=True, env=clean | env
    )
    applied, faults = done.stdout.split()
    return applied == "True", int(faults)


def test_freed_buffers_are_reused_without_page_faults_once_tuned():
    applied, faults = churn("tuned")
    assert applied
    assert faults < 50  # 150 buffers, 1.1 GB touched: thousands of faults if they were mapped anew


def test_with_glibc_s_defaults_the_same_buffers_fault_in_fresh_memory():
    """What the tuning is for: the same churn without it (the check that the test above can fail)."""
    _, faults = churn("default")
    assert faults > 1000


def test_a_user_s_own_glibc_settings_are_left_alone():
    applied, _ = churn("tuned", MALLOC_TRIM_THRESHOLD_="1048576")
    assert not applied
