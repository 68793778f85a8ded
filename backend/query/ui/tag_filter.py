"""Tag expressions beyond Jaeger's: OR, negation and "tag present", for the search page.

Syntax (whitespace separates terms, which must all hold)::

    http.method=GET            a span has this tag value (Jaeger's own rule: sent to storage)
    http.status_code!=200      no span of the trace has this value
    error                      some span has the tag (any value)
    !error                     no span has the tag
    a=1|b=2   a=1 | !b         any one alternative of the term holds
    sql.query="SELECT * ..."   values with spaces or ``|`` are quoted (``\\"`` inside)

A term that is a single ``key=value`` keeps Jaeger's meaning (all such
terms on one span) and is handed to storage with the query; the other terms
are tested on the candidate traces afterwards, against the tags of all their
spans, resources and events (plus ``span.kind``, ``otel.status_code``,
``error`` as the API derives them).  A JSON object (``{"k":"v"}``, the shape
Jaeger's UI puts in its URLs) is read as plain terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from backend.query.responses import ApiError
from backend.query.tag_params import parse_tag_params
from backend.spans.otlp import decode_span
from backend.storage.api import Trace
from backend.storage.matching import attribute_texts, derived_texts

_CONDITION = re.compile(r'(!?)([^\s=!|"]+)(?:(!?=)("(?:[^"\\]|\\.)*"|[^\s|"]*))?')
_OR = re.compile(r"\s*\|\s*")
_SPACE = re.compile(r"\s+")
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Condition:
    key: str
    op: str  # "=", "!=", "present", "absent"
    value: str = ""

    def holds(self, texts: dict[str, set[str]]) -> bool:
        if self.op == "=":
            return self.value in texts.get(self.key, ())
        if self.op == "!=":
            return self.value not in texts.get(self.key, ())
        if self.op == "present":
            return self.key in texts
        return self.key not in texts


@dataclass(frozen=True, slots=True)
class TagExpression:
    plain: dict[str, str] = field(default_factory=dict)  # for TraceQuery.tags
    terms: list[list[Condition]] = field(default_factory=list)  # AND of ORs, tested per trace

    def matches(self, trace: Trace) -> bool:
        if not self.terms:
            return True
        texts = trace_texts(trace, {c.key for term in self.terms for c in term})
        return all(any(condition.holds(texts) for condition in term) for term in self.terms)


def parse_tag_expression(text: str) -> TagExpression:
    """Parse the search form's tags field; ``ApiError(400)`` says where it went wrong."""
    text = text.strip()
    if not text:
        return TagExpression()
    if text.startswith("{"):
        return TagExpression(plain=parse_tag_params([], [text]))
    plain: dict[str, str] = {}
    terms: list[list[Condition]] = []
    position = 0
    term: list[Condition] = []
    while position < len(text):
        match = _CONDITION.match(text, position)
        if match is None or match.end() == position:
            raise ApiError(400, f"malformed tags at character {position + 1}: {text[position : position + 20]!r}")
        term.append(_condition(match))
        position = match.end()
        separator = _OR.match(text, position)
        if separator and separator.group().strip() == "|":
            position = separator.end()
            continue
        space = _SPACE.match(text, position)
        if position < len(text) and space is None:
            raise ApiError(400, f"malformed tags at character {position + 1}: expected a space or '|'")
        position = space.end() if space else position
        if len(term) == 1 and term[0].op == "=":
            plain[term[0].key] = term[0].value
        else:
            terms.append(term)
        term = []
    if term:
        raise ApiError(400, "malformed tags: '|' must be followed by another condition")
    return TagExpression(plain, terms)


def _condition(match: re.Match[str]) -> Condition:
    negated, key, op, value = match.groups()
    if op is None:
        return Condition(key, "absent" if negated else "present")
    if negated:
        raise ApiError(400, f"malformed tags: '!' goes before a bare key (!{key}), or use {key}!=value")
    if value.startswith('"'):
        value = _ESCAPE.sub(r"\1", value[1:-1])
    return Condition(key, op, value)


def trace_texts(trace: Trace, keys: set[str]) -> dict[str, set[str]]:
    """For the wanted keys, every text they take anywhere in the trace (spans, resources, events)."""
    found: dict[str, set[str]] = {}

    def merge(texts: dict[str, set[str]]) -> None:
        for key, values in texts.items():
            if key in keys:
                found.setdefault(key, set()).update(values)

    for blob in trace.processes.values():
        merge(attribute_texts(ResourceSpans.FromString(blob).resource.attributes, keys))
    for record in trace.spans:
        span = decode_span(record)[0]
        merge(attribute_texts(span.attributes, keys))
        for event in span.events:
            merge(attribute_texts(event.attributes, keys))
        merge(derived_texts(record, span))
    return found
