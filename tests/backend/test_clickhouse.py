"""``hotrod backend --storage clickhouse``: embedded chDB in the data folder, and what it says without the extra."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.backend.clients import post_otlp, span_count
from tests.backend.conftest import run_backend
from tests.builders import SpanSpec, export_request
from tests.support import wait_for

pytest.importorskip("chdb")

# Put first on the path of a child process, this makes ``import chdb`` fail as on a machine without the extra.
BLOCK_CHDB = """
import sys

class _NoChdb:
    def find_spec(self, name, path=None, target=None):
        if name == "chdb" or name.startswith("chdb."):
            raise ImportError("No module named 'chdb' (blocked by the test)")
        return None

sys.meta_path.insert(0, _NoChdb())
"""


def test_spans_sent_over_otlp_are_found_by_service_and_attribute_through_the_query_api(start_backend, tmp_path):
    backend = start_backend("--storage", "clickhouse")
    wanted = SpanSpec("customer", "SQL SELECT", attributes={"customer.id": "392"})
    other = SpanSpec("customer", "SQL SELECT", attributes={"customer.id": "731"})
    assert post_otlp(backend.url("otlp-http", "/v1/traces"), export_request([wanted, other]).SerializeToString()).ok
    wait_for(lambda: span_count(backend.url("query"), wanted.trace_id.hex()) == 1, timeout=20, what="the span")

    found = requests.get(
        backend.url("query", "/api/traces"),
        params={"service": "customer", "tags": json.dumps({"customer.id": "392"})},
        timeout=10,
    ).json()["data"]

    assert [trace["traceID"] for trace in found] == [wanted.trace_id.hex()]
    assert (tmp_path / "data" / "clickhouse").is_dir()


def test_without_the_extra_the_backend_says_how_to_install_it(tmp_path: Path):
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text(BLOCK_CHDB)

    result = run_backend("--storage", "clickhouse", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "blocker")})

    assert result.returncode == 2, result.stderr
    assert "pip install 'hotrod-py[clickhouse]'" in result.stderr
    assert "Traceback" not in result.stderr
