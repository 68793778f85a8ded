"""JSON text that is safe inside HTML: ``<``, ``>`` and ``&`` escaped as Go's encoding/json does.

Kept free of Flask so that configuration checks can use it without loading a web framework.
The bodies are trees that callers just built (a 10,000-span trace is one), never
cyclic, so the encoder skips its cycle check: about 10% of encoding such a trace.
"""

from __future__ import annotations

import json
from typing import Any

_HTML_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))


def html_safe_json(body: Any, indent: int | None = None) -> str:
    """``body`` as compact JSON (or indented) with ``<``, ``>`` and ``&`` escaped, safe inside HTML and scripts."""
    separators = None if indent else (",", ":")
    text = json.dumps(body, indent=indent, separators=separators, allow_nan=False, check_circular=False)
    for character, escaped in _HTML_ESCAPES:
        if character in text:
            text = text.replace(character, escaped)
    return text
