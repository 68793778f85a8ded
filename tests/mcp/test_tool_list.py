"""The MCP endpoint on the query port lists Jaeger's tools, with Jaeger's argument names, and ours."""

from __future__ import annotations

from typing import Any

import requests

from tests.mcp.client import list_tools
from tests.mcp.conftest import Backend

JAEGER_TOOLS = {
    "get_services": {"pattern", "limit"},
    "get_span_names": {"service_name", "pattern", "span_kind", "limit"},
    "search_traces": {"start_time_min", "start_time_max", "service_name", "span_name", "attributes", "with_errors",
                      "duration_min", "duration_max", "search_depth"},
    "get_trace_topology": {"trace_id", "depth"},
    "get_span_details": {"trace_id", "span_ids"},
    "get_trace_errors": {"trace_id"},
    "get_critical_path": {"trace_id"},
    "get_service_dependencies": {"start_time", "end_time"},
    "read_skill": {"path"},
}  # fmt: skip
OURS = {"detect_n_plus_one": {"trace_id", "min_calls"}, "find_error_root_cause": {"trace_id"}}


def test_the_sdk_client_lists_jaegers_tools_and_ours_with_their_arguments(backend: Backend):
    tools = {tool.name: tool for tool in list_tools(backend.mcp)}

    assert {name: set(tool.input_schema["properties"]) for name, tool in tools.items()} == {**JAEGER_TOOLS, **OURS}
    assert tools["get_critical_path"].input_schema["required"] == ["trace_id"]
    assert tools["get_span_details"].input_schema["required"] == ["trace_id", "span_ids"]
    assert "service_name" not in tools["search_traces"].input_schema.get("required", [])
    output = tools["get_critical_path"].output_schema
    assert output is not None
    assert set(output["properties"]) >= {
        "trace_id", "total_duration_us", "critical_path_duration_us", "segments",
    }  # fmt: skip


def test_a_request_naming_another_host_is_refused_on_a_loopback_endpoint(backend: Backend):
    initialize: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip
    headers = {"Accept": "application/json, text/event-stream", "Host": "attacker.example:16686"}

    reply = requests.post(backend.mcp, json=initialize, headers=headers, timeout=10)

    assert reply.status_code in (400, 403, 421)


def test_the_rest_of_the_api_is_unchanged_beside_it(backend: Backend):
    assert requests.get(backend.url("/api/services"), timeout=10).json()["errors"] is None
