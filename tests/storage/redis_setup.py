"""Conformance-suite set-ups for the ``redis`` plug-in: the real server, a real cluster and the embedded one.

Each test gets its own key prefix on the shared server (so parallel runs never
meet) and deletes every key under it afterwards.  The embedded server
(``embedded_redis``, the fixture ``embedded_redis_url``) is started once per test
session and shared the same way.  The plug-in's own
start of an embedded server (no ``url``) is tested in ``test_redis_store``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from backend.storage.redis.client import connect

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SESSION_TAG = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"


def unique_prefix() -> str:
    return f"test:{SESSION_TAG}:{uuid.uuid4().hex[:8]}"


def delete_prefix(prefix: str, url: str = REDIS_URL) -> None:
    """Every key under ``prefix`` deleted, on a server or (a ``redis+cluster://`` URL) on every master of a cluster."""
    client = connect(url, "tests")
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def real_redis(_request: pytest.FixtureRequest, _tmp_path: Path) -> tuple[str, dict[str, Any], Any]:
    prefix = unique_prefix()
    return "redis", {"url": REDIS_URL, "prefix": prefix}, lambda: delete_prefix(prefix)


def cluster_redis(request: pytest.FixtureRequest, _tmp_path: Path) -> tuple[str, dict[str, Any], Any]:
    """The session's Redis Cluster (``tests/redis_cluster.py``), started on first use."""
    url = request.getfixturevalue("redis_cluster").url
    prefix = unique_prefix()
    return "redis", {"url": url, "prefix": prefix}, lambda: delete_prefix(prefix, url)


def embedded_redis(request: pytest.FixtureRequest, _tmp_path: Path) -> tuple[str, dict[str, Any], Any]:
    prefix = unique_prefix()
    url = request.getfixturevalue("embedded_redis_url")
    return "redis", {"url": url, "prefix": prefix}, lambda: delete_prefix(prefix, url)
