"""The conformance suite, run against every plug-in kind in ``conftest.STORAGE_KINDS``."""

from __future__ import annotations

from tests.storage.conformance import StorageConformance


class TestEveryPlugin(StorageConformance):
    """Each test runs once per kind: memory, SQLite (a temporary file), PostgreSQL (a throw-away schema)."""
