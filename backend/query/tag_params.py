"""The three ways a search names tags: ``tag=k:v``, ``tags={"k":"v"}`` and ``tags=k=v k2="v 2"``.

The Jaeger UI's search form takes logfmt and sends it as a JSON object; people
and scripts write either, so both are accepted here.  Values are matched as
text (see ``TraceQuery``), so JSON numbers and booleans are turned into the
text they would match.
"""

from __future__ import annotations

import json
import re

from backend.query.responses import ApiError

_LOGFMT_PAIR = re.compile(r'\s*([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)\s*')
_ESCAPE = re.compile(r"\\(.)")


def parse_tag_params(simple: list[str], structured: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for text in simple:
        key, colon, value = text.partition(":")
        if not colon or not key:
            raise ApiError(400, f"malformed 'tag' parameter, expecting key:value, received: {text}")
        tags[key] = value
    for text in structured:
        if not text.strip():
            continue
        tags.update(_parse_json(text) if text.lstrip().startswith("{") else _parse_logfmt(text))
    return tags


def _parse_json(text: str) -> dict[str, str]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed 'tags' parameter, cannot unmarshal JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ApiError(400, "malformed 'tags' parameter: expecting a JSON object of key to value")
    tags = {}
    for key, value in document.items():
        if isinstance(value, bool):
            tags[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            tags[key] = str(value)
        else:
            raise ApiError(400, f"malformed 'tags' parameter: the value of {key!r} must be a string, number or bool")
    return tags


def _parse_logfmt(text: str) -> dict[str, str]:
    tags = {}
    position = 0
    while position < len(text):
        match = _LOGFMT_PAIR.match(text, position)
        if match is None or match.end() == position:
            raise ApiError(
                400, f"malformed 'tags' parameter, expecting a JSON object or logfmt (k=v k2=\"v 2\"): {text}"
            )
        key, value = match.group(1), match.group(2)
        if value.startswith('"'):
            value = _ESCAPE.sub(r"\1", value[1:-1])
        tags[key] = value
        position = match.end()
    return tags
