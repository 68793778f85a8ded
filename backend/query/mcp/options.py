"""``extensions.jaeger_query.ai.mcp``: present turns the MCP endpoint on (``mcp: {}`` is enough), as in Jaeger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backend.core.binding import ConfigError, require_at_least_one

ENTRY_POINT = "SKILL.md"


@dataclass
class McpOptions:
    # a directory of the operator's own skills, served by read_skill under custom/; needs a SKILL.md
    skills_dir: str = ""
    # Jaeger's limits, same defaults
    max_span_details_per_request: int = 20
    max_search_results: int = 100
    max_read_file_size: int = 512 * 1024
    # ours: the spans an analysis or topology reads from one trace, and the longest string a result carries
    max_trace_spans: int = 5000
    max_string_length: int = 1024


@dataclass
class AiOptions:
    mcp: McpOptions | None = None


def check_mcp(options: McpOptions, where: str) -> None:
    """Limits must be positive; a ``skills_dir`` must hold a readable ``SKILL.md`` (Jaeger refuses to start too)."""
    require_at_least_one(
        options,
        ("max_span_details_per_request", "max_search_results", "max_read_file_size", "max_trace_spans",
         "max_string_length"),
        where,
    )  # fmt: skip
    if options.skills_dir:
        entry = Path(options.skills_dir) / ENTRY_POINT
        try:
            entry.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{where}.skills_dir", f"cannot read {entry}: {exc.strerror or exc}") from None
