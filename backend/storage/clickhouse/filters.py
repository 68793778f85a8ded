"""A ``TraceQuery`` as a ClickHouse WHERE clause over ``spans``, with its values as query parameters.

Tags follow ``backend.storage.matching``'s rule: ``key=value`` matches when
the span's own, its events' or its links' attributes have that text (``tag_keys`` and
``tag_values``), when its process's resource or scope does (``processes``),
or when a field Jaeger shows as a tag says so (``span.kind``,
``otel.status_code``, ``error=true``).  Every tag must match on one span.

A condition with tags also gives its ``prewhere``: each tag's text alone
(``has(tag_values, …)``, or its other options), which every match passes.
Read first, it leaves the pair test (which joins every key to its text,
span by span) the few spans with the text; left to itself the engine ran
the pair test first (``EXPLAIN``): ~20% of a search's CPU at 10 M spans.

Attribute filters of the ``resource`` and ``scope`` levels are exact here
too.  The span's columns do not say which level (span, event, link) a text
came from, so a ``span``, ``event``, ``link`` or span-or-resource filter
only narrows the candidates: ``Condition.exact`` is then False and the
reader confirms each candidate with ``matching.matcher_for``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from backend.spans.model import KIND_BY_NAME, STATUS_ERROR, STATUS_OK
from backend.storage.api import TraceQuery
from backend.storage.matching import kind_filter

_STATUS_CODES = {"OK": STATUS_OK, "ERROR": STATUS_ERROR}


# A span's tags as one array of key<US>text strings: the expression the optional text index is built on
# (``Layout.tag_index``), so the same condition scans the columns without the index and reads the index with it.
TAG_PAIRS = "arrayMap((k, v) -> concat(k, '\\x1f', v), tag_keys, tag_values)"


# Which processes-table columns each attribute-filter level searches ("" is span-or-resource).
_PROCESS_LEVELS: dict[str, tuple[str, ...]] = {"": ("resource",), "resource": ("resource",), "scope": ("scope",)}
_SPAN_LEVELS = ("", "span", "event", "link")

ProcessesWith = Callable[[str, str, Sequence[str]], list[bytes]]


@dataclass(frozen=True, slots=True)
class Condition:
    """A WHERE clause and its parameters; ``exact`` False when matches must still be confirmed by the matcher.

    ``prewhere``: a test every row that ``sql`` picks passes, cheaper than ``sql`` (the attribute texts alone), for a
    ``PREWHERE`` clause; empty when the condition has no such test.
    """

    sql: str
    params: dict[str, Any]
    exact: bool
    prewhere: str = ""

    def clauses(self) -> str:
        """``PREWHERE … WHERE …``, or ``WHERE …`` alone."""
        return f"PREWHERE {self.prewhere} WHERE {self.sql}" if self.prewhere else f"WHERE {self.sql}"


def where(query: TraceQuery, processes_with: ProcessesWith) -> Condition:
    """The query's condition; its SQL is ``1`` when the query filters nothing.

    ``processes_with(key, text, levels)`` lists the processes whose resource
    or scope (``levels``) has that attribute text: looked up first in the
    small processes table, so the span scan tests a constant list rather
    than a subquery (measured 2x faster).
    """
    conditions: list[str] = []
    texts: list[str] = []  # each tag's or attribute's narrowing: its text in the span, or its other options
    params: dict[str, Any] = {}
    if query.service:
        conditions.append("service = {service:String}")
        params["service"] = query.service
    if query.operation:
        conditions.append("name = {operation:String}")
        params["operation"] = query.operation
    kind = kind_filter(query.span_kind)
    if kind is not None:
        conditions.append(f"kind = {kind}" if kind >= 0 else "0")
    for field, column, operator in (
        ("start_min_ns", "start_ns", ">="),
        ("start_max_ns", "start_ns", "<="),
        ("duration_min_ns", "duration_ns", ">="),
        ("duration_max_ns", "duration_ns", "<="),
    ):
        value = getattr(query, field)
        if value is not None:
            conditions.append(f"{column} {operator} {{{field}:Int64}}")
            params[field] = int(value)
    for number, (key, value) in enumerate(sorted(query.tags.items())):
        params[f"tag{number}"] = f"{key}\x1f{value}"
        params[f"text{number}"] = value
        others = _derived(key, value)
        process_ids = processes_with(key, value, ("resource", "scope"))
        conditions.append(_any_of([_pair_test(f"tag{number}", f"text{number}"), *others], process_ids))
        texts.append(_any_of([_text_test(f"text{number}"), *others], process_ids))
    for number, attribute in enumerate(query.attribute_filters):
        options, narrowing = [], []
        if attribute.level in _SPAN_LEVELS:
            params[f"attribute{number}"] = f"{attribute.key}\x1f{attribute.value}"
            params[f"attribute_text{number}"] = attribute.value
            options.append(_pair_test(f"attribute{number}", f"attribute_text{number}"))
            narrowing.append(_text_test(f"attribute_text{number}"))
        levels = _PROCESS_LEVELS.get(attribute.level, ())
        process_ids = processes_with(attribute.key, attribute.value, levels) if levels else []
        conditions.append(_any_of(options, process_ids))
        texts.append(_any_of(narrowing, process_ids))
    exact = all(attribute.level not in _SPAN_LEVELS for attribute in query.attribute_filters)
    return Condition(" AND ".join(conditions) or "1", params, exact, " AND ".join(texts))


def _pair_test(pair: str, text: str) -> str:
    """A span has the key/text pair (parameter ``pair``): its texts are searched for ``text`` first.

    The pair test is what the ``tag_pairs_bloom`` index answers, so it stays; but
    on the granules the index lets through it joins every key to its text, span by
    span, while ``has`` on the texts alone is a plain array search that leaves it
    the few spans with that text (``benchmarks/clickhouse_search.py``).
    """
    return f"({_text_test(text)} AND has({TAG_PAIRS}, {{{pair}:String}}))"


def _text_test(text: str) -> str:
    """A span has the text (parameter ``text``) under some key: what ``_pair_test`` tests first, for ``PREWHERE``."""
    return f"has(tag_values, {{{text}:String}})"


def _any_of(options: list[str], process_ids: list[bytes]) -> str:
    if process_ids:
        options = [*options, f"process_id IN ({hex_list(process_ids)})"]
    return f"({' OR '.join(options)})" if options else "0"


def hex_list(ids: list[bytes]) -> str:
    """Binary ids as SQL literals (hex digits only, so nothing to escape)."""
    return ", ".join(f"unhex('{value.hex()}')" for value in ids)


def _derived(key: str, value: str) -> list[str]:
    """Conditions on indexed fields for the tags Jaeger derives from them (see ``matching.derived_texts``)."""
    if key == "span.kind" and value in KIND_BY_NAME:
        return [f"kind = {KIND_BY_NAME[value]}"]
    if key == "otel.status_code" and value in _STATUS_CODES:
        return [f"status_code = {_STATUS_CODES[value]}"]
    if key == "error" and value == "true":
        return [f"status_code = {STATUS_ERROR}"]
    return []
