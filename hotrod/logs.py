"""Logs twice over: a JSON line on stdout carrying trace and span ids, and an event on the current span.

The stdout line lets ``grep trace_id=…``-style searches join logs to traces; the span event puts
the same words in the trace view, which is where HotROD's story is told.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from opentelemetry import trace

from hotrod.tracerouting import current_service

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": current_service.get() or "hotrod",
            "logger": record.name,
            "msg": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = format(context.trace_id, "032x")
            line["span_id"] = format(context.span_id, "016x")
        line.update(_extras(record))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class SpanEventHandler(logging.Handler):
    """Adds each log record as an event on the span current when it was logged."""

    def emit(self, record: logging.LogRecord) -> None:
        span = trace.get_current_span()
        if not span.is_recording():
            return
        attributes: dict[str, str | bool | int | float] = {
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            attributes[key] = value if isinstance(value, str | bool | int | float) else json.dumps(value, default=str)
        span.add_event("log", attributes)


def configure(level: int = logging.INFO) -> None:
    """JSON lines on stdout for everything; span events for HotROD's own loggers. Idempotent."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        stream = logging.StreamHandler(sys.stdout)
        stream.setFormatter(JsonFormatter())
        root.addHandler(stream)
    root.setLevel(level)
    hotrod = logging.getLogger("hotrod")
    if not any(isinstance(h, SpanEventHandler) for h in hotrod.handlers):
        hotrod.addHandler(SpanEventHandler())
