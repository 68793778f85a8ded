"""``extensions.jaeger_query.ai.mcp``: on in the shipped all-in-one config, off when absent, limits checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import load
from backend.core.binding import ConfigError
from backend.query.app import create_app
from backend.storage.factory import create_storage

ROLES = Path(__file__).resolve().parents[2] / "deploy" / "roles"


def test_the_default_config_serves_mcp_with_jaegers_limits():
    mcp = load(None).extensions["jaeger_query"].options.ai.mcp

    assert mcp is not None
    assert (mcp.max_span_details_per_request, mcp.max_search_results, mcp.max_read_file_size) == (20, 100, 512 * 1024)


@pytest.mark.parametrize("role", ["query.yaml", "cluster/query.yaml"])
def test_the_query_role_serves_mcp_too(role: str):
    assert load(str(ROLES / role)).extensions["jaeger_query"].options.ai.mcp is not None


def test_without_the_mcp_block_the_path_is_an_api_404():
    storage = create_storage("memory", {}, "test")
    client = create_app(storage.reader(), storage.dependency_reader()).test_client()

    reply = client.post("/api/ai/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "initialize"})

    assert reply.status_code == 404
    assert reply.json is not None and reply.json["errors"][0]["code"] == 404


@pytest.mark.parametrize("key", ["max_span_details_per_request", "max_string_length", "max_trace_spans"])
def test_limits_must_be_positive(key: str):
    with pytest.raises(ConfigError, match=rf"jaeger_query\.ai\.mcp\.{key}: expected at least 1"):
        load(None, [f"extensions.jaeger_query.ai.mcp.{key}=0"])
