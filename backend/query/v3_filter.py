"""``query.filter`` of ``/api/v3``: Jaeger's structured query filter (RFC 0005), as far as our storage answers it.

The filter is a JSON ``Call`` (``{"op": ..., "args": [Expression, ...]}``).
We answer its conjunctive subset: ``and`` (nested ones flatten) of

- ``eq`` of an attribute reference (any level, or none: span or resource)
  and a constant;
- ``eq`` of ``resource.service``, ``span.name`` or ``span.kind`` and a constant;
- ``gt``/``gte``/``lt``/``lte`` of ``span.duration`` and a Go duration.

Anything else the RFC defines (``or``, ``not``, ``ne``, ``regex``,
``exists``, ``in``, ``some``, other fields, reference-to-reference
comparisons) is refused with a 400 that names it, never dropped: an
ignored predicate would widen the answer without saying so.  As in Jaeger,
a filter excludes the legacy fields (service, operation, durations,
attributes) in the same request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from backend.query.params import SPAN_KINDS, non_negative_duration_ns
from backend.query.responses import ApiError
from backend.storage.api import ATTRIBUTE_LEVELS, AttributeFilter

PARAM = "query.filter"
MAX_DEPTH = 32
_COMPARISONS = ("eq", "gt", "gte", "lt", "lte")
_KNOWN_OPS = ("and", "or", "not", "eq", "ne", "gt", "lt", "gte", "lte", "regex", "exists", "in", "not_in", "some")
_FIELDS = {
    "span": ("traceID", "spanID", "parentSpanID", "traceState", "name", "kind", "startTime", "endTime", "status")
    + ("statusMessage", "duration"),
    "resource": ("service", "schemaURL"),
    "scope": ("name", "version", "schemaURL"),
    "event": ("name", "time", "timeSinceStart"),
    "link": ("traceID", "spanID", "traceState"),
}
_SCALAR_TYPES = ("", "string", "int", "double", "bool")


@dataclass
class ParsedFilter:
    """What a filter asks of ``TraceQuery``; None fields were not constrained."""

    service: str | None = None
    operation: str | None = None
    span_kind: str | None = None
    duration_min_ns: int | None = None
    duration_max_ns: int | None = None
    attributes: list[AttributeFilter] = field(default_factory=list)


def _refuse(reason: str) -> ApiError:
    return ApiError(400, f"malformed parameter {PARAM}: {reason}")


def _unsupported(what: str) -> ApiError:
    return ApiError(
        400,
        f"unsupported {PARAM}: {what}; this backend answers an 'and' of 'eq' on attributes, "
        "resource.service, span.name and span.kind, and gt/gte/lt/lte on span.duration",
    )


def parse_filter(text: str) -> ParsedFilter:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refuse(f"not JSON: {exc}") from None
    except RecursionError:
        raise _refuse(f"nested deeper than {MAX_DEPTH} calls") from None
    parsed = ParsedFilter()
    for leaf in _conjuncts(document, 1):
        _apply(parsed, leaf)
    return parsed


def _call(document: Any, depth: int) -> tuple[str, list[Any]]:
    if depth > MAX_DEPTH:
        raise _refuse(f"nested deeper than {MAX_DEPTH} calls")
    if not isinstance(document, dict) or not isinstance(document.get("op"), str):
        raise _refuse('a call is an object with a string "op" and a list "args"')
    op, args = document["op"], document.get("args", [])
    if op not in _KNOWN_OPS:
        raise _refuse(f"unknown operator {op!r}")
    if not isinstance(args, list):
        raise _refuse(f'"args" of {op!r} must be a list')
    return op, args


def _conjuncts(document: Any, depth: int) -> list[tuple[str, list[Any]]]:
    """The leaves of a conjunction, nested ``and`` calls flattened."""
    op, args = _call(document, depth)
    if op != "and":
        return [(op, args)]
    if len(args) < 2:
        raise _refuse("'and' takes two or more arguments")
    leaves = []
    for argument in args:
        if not isinstance(argument, dict) or set(argument) != {"call"}:
            raise _refuse("every argument of 'and' must be a call")
        leaves.extend(_conjuncts(argument["call"], depth + 1))
    return leaves


def _apply(parsed: ParsedFilter, leaf: tuple[str, list[Any]]) -> None:
    op, args = leaf
    if op not in _COMPARISONS:
        raise _unsupported(f"operator {op!r}")
    if len(args) != 2:
        raise _refuse(f"{op!r} takes two arguments, got {len(args)}")
    terms = [_term(argument) for argument in args]
    references = [term for term in terms if term[0] in ("attr", "field")]
    constants = [term for term in terms if term[0] == "scalar"]
    if len(references) != 1 or len(constants) != 1:
        raise _unsupported(f"{op!r} of {' and '.join(term[0] for term in terms)} (one reference and one constant)")
    (kind, body), (_, scalar) = references[0], constants[0]
    if terms[0][0] == "scalar" and op in ("gt", "gte", "lt", "lte"):
        op = {"gt": "lt", "lt": "gt", "gte": "lte", "lte": "gte"}[op]  # constant first: same question
    value = _scalar_value(scalar)
    if kind == "attr":
        _attribute(parsed, op, body, value)
    else:
        _field(parsed, op, body, value)


def _term(argument: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(argument, dict) or len(argument) != 1:
        raise _refuse("an argument holds exactly one of attr, field, nested, scalar, list or call")
    (kind, body), *_ = argument.items()
    if kind not in ("attr", "field", "nested", "scalar", "list", "call") or not isinstance(body, dict):
        raise _refuse(f"unknown argument {kind!r}")
    if kind in ("nested", "list", "call"):
        raise _unsupported(f"a {kind!r} argument of a comparison")
    return kind, body


def _scalar_value(scalar: dict[str, Any]) -> str:
    value, value_type = scalar.get("value", ""), scalar.get("type", "")
    if not isinstance(value, str) or value_type not in _SCALAR_TYPES:
        raise _refuse(f"a scalar is a string value with a type among {', '.join(_SCALAR_TYPES[1:])}")
    return str(value)


def _level(body: dict[str, Any], allow_empty: bool) -> str:
    level = body.get("level", "")
    if level not in ATTRIBUTE_LEVELS and not (allow_empty and level == ""):
        raise _refuse(f"unknown level {level!r} (one of {', '.join(ATTRIBUTE_LEVELS)})")
    return str(level)


def _attribute(parsed: ParsedFilter, op: str, body: dict[str, Any], value: str) -> None:
    key = body.get("key", "")
    if not isinstance(key, str) or not key:
        raise _refuse("an attribute reference needs a key")
    level = _level(body, allow_empty=True)
    if op != "eq":
        raise _unsupported(f"{op!r} on attribute {key!r}")
    parsed.attributes.append(AttributeFilter(key, value, level))


def _field(parsed: ParsedFilter, op: str, body: dict[str, Any], value: str) -> None:
    level, name = _level(body, allow_empty=False), body.get("name", "")
    if name not in _FIELDS[level]:
        raise _refuse(f"{level} has no field {name!r} (one of {', '.join(_FIELDS[level])})")
    where = f"{level}.{name}"
    if where == "span.duration":
        _duration(parsed, op, value)
        return
    if op != "eq" or where not in ("resource.service", "span.name", "span.kind"):
        raise _unsupported(f"{op!r} on {where}")
    if where == "span.kind" and value not in SPAN_KINDS:
        raise _refuse(f"span.kind is one of {', '.join(SPAN_KINDS)}, not {value!r}")
    target = {"resource.service": "service", "span.name": "operation", "span.kind": "span_kind"}[where]
    if getattr(parsed, target) not in (None, value):
        raise _unsupported(f"two different values for {where}")
    setattr(parsed, target, value)


def _duration(parsed: ParsedFilter, op: str, value: str) -> None:
    if op == "eq":
        raise _unsupported("'eq' on span.duration")
    try:
        bound = non_negative_duration_ns(value)
    except ValueError as exc:
        raise _refuse(f"span.duration: {exc}") from None
    if op in ("gt", "gte"):
        bound += op == "gt"
        parsed.duration_min_ns = max(parsed.duration_min_ns or 0, bound)
    else:
        bound -= op == "lt"
        parsed.duration_max_ns = bound if parsed.duration_max_ns is None else min(parsed.duration_max_ns, bound)
