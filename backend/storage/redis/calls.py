"""One redis-py call with its errors turned into ``StorageError``, so the query API answers 503 rather than 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from backend.storage.api import StorageError


def guarded(failure: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``operation(*args, **kwargs)``; a Redis error becomes ``StorageError("<failure>: <why>")``.

    redis-py's results are untyped (its commands return ``Awaitable | Any``), so callers say what they got.
    """
    try:
        return operation(*args, **kwargs)
    except redis.RedisError as exc:
        raise StorageError(f"{failure}: {exc}") from exc
