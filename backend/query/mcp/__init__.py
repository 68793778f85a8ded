"""Jaeger's MCP tools on the query port (``/api/ai/mcp``), for AI agents that debug from traces.

The tools, their arguments and result shapes follow Jaeger's (``mcptools`` in
jaegertracing/jaeger); ``detect_n_plus_one`` and ``find_error_root_cause`` are
ours, so that the skills' conclusions come from computation, not from a model.
Every tool gets only the storage's reader interfaces: the server cannot write.
"""
