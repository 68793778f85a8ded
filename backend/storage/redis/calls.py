"""One redis-py call with its errors turned into ``StorageError``, so the query API answers 503 rather than 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.storage.api import StorageError
from backend.storage.redis.client import ERRORS


def guarded(failure: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``operation(*args, **kwargs)``; a Redis error becomes ``StorageError("<failure>: <why>")``.

    redis-py's results are untyped (its commands return ``Awaitable | Any``), so callers say what they got.
    """
    try:
        return operation(*args, **kwargs)
    except ERRORS as exc:
        raise StorageError(f"{failure}: {exc}") from exc
