"""Short span descriptions for the analyses' tests: ids are names, times are microseconds."""

from __future__ import annotations

from backend.analysis.spans import SpanNode


def node(span_id: str, start: int, duration: int, parent: str | None = None, *, service: str = "svc",
         name: str | None = None, error: bool = False, kind: str = "") -> SpanNode:  # fmt: skip
    return SpanNode(span_id, parent, service, name or span_id, start, duration, error, kind)


def calls(prefix: str, parent: str, starts: list[int], duration: int, **fields: object) -> list[SpanNode]:
    """Siblings named ``fields['name']`` starting at ``starts``, each lasting ``duration``."""
    return [node(f"{prefix}{i}", start, duration, parent, **fields) for i, start in enumerate(starts)]  # type: ignore[arg-type]
