"""The tags in which OpenTelemetry's Jaeger and Zipkin exporters carry OTLP's status and scope.

Both translators read them the same way (as the Collector's do), so they read them here: the
status code's name, and the scope's name and version under their current and their older keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from opentelemetry.proto.trace.v1.trace_pb2 import Status

STATUS_CODE_KEY = "otel.status_code"
SCOPE_NAME_KEYS = ("otel.scope.name", "otel.library.name")
SCOPE_VERSION_KEYS = ("otel.scope.version", "otel.library.version")
SCOPE_KEYS = frozenset((*SCOPE_NAME_KEYS, *SCOPE_VERSION_KEYS))
_STATUS_CODES = {"OK": Status.STATUS_CODE_OK, "ERROR": Status.STATUS_CODE_ERROR}

V = TypeVar("V")


def status_code(name: str) -> Status.StatusCode.ValueType:
    """``OK`` or ``ERROR`` in any case; anything else is unset, as in the Collector."""
    return _STATUS_CODES.get(name.upper(), Status.STATUS_CODE_UNSET)


def scope_of(tags: Mapping[str, V], text: Callable[[V], str]) -> tuple[str, str]:
    """(name, version) of the instrumentation scope the tags name; "" for what they do not."""
    name = next((text(tags[key]) for key in SCOPE_NAME_KEYS if key in tags), "")
    version = next((text(tags[key]) for key in SCOPE_VERSION_KEYS if key in tags), "")
    return name, version
