"""The MCP SDK's own client over streamable HTTP, one session per call, as an agent's host would connect.

Each call runs its event loop on a thread of its own: the browser tests' Playwright keeps one
running on the main thread for the whole session.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, Tool


async def _session_do(url: str, action: Any) -> Any:
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await action(session)


def _run(url: str, action: Any) -> Any:
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(anyio.run, _session_do, url, action).result()


def list_tools(url: str) -> list[Tool]:
    async def action(session: ClientSession) -> list[Tool]:
        return (await session.list_tools()).tools

    return _run(url, action)


def call(url: str, tool: str, **arguments: Any) -> CallToolResult:
    async def action(session: ClientSession) -> CallToolResult:
        return await session.call_tool(tool, arguments)

    return _run(url, action)


def result(url: str, tool: str, **arguments: Any) -> dict[str, Any]:
    """The structured result of a call that must succeed."""
    answer = call(url, tool, **arguments)
    assert not answer.is_error, answer.content
    assert answer.structured_content is not None
    return answer.structured_content


def error_text(url: str, tool: str, **arguments: Any) -> str:
    """The message of a call that must fail as an MCP tool error."""
    answer = call(url, tool, **arguments)
    assert answer.is_error, answer.structured_content
    return " ".join(getattr(block, "text", "") for block in answer.content)
