"""Trace analyses that the trace UI, the query API and the MCP tools share, so each is computed one way.

They work on ``SpanNode`` (``spans.py``): the handful of indexed fields every
stored span has, so an analysis never needs a span's payload decoded.
"""
