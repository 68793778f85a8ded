"""OTLP attribute values as plain Python data: one rendering for search and display alike.

Arrays and maps are shown (in Jaeger JSON) and matched (in tag search) as the
same compact JSON text, so a value copied from the UI finds its span.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def plain(value: AnyValue) -> Any:
    """JSON-able data: bytes as base64, non-finite doubles as text (JSON has no NaN)."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: plain(item.value) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind == "double_value" and not math.isfinite(value.double_value):
        return str(value.double_value)
    return None if kind is None else getattr(value, kind)
