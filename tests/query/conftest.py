"""An API client over real storage: each test stores spans built by tests/builders and queries them over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from backend.query.app import create_app
from backend.storage.api import Storage
from backend.storage.factory import create_storage
from tests.builders import WritesSpans

STORAGES = ["memory", "sqlite"]


@dataclass
class Api(WritesSpans):
    client: FlaskClient
    storage: Storage

    def get(self, path: str, **params: Any) -> TestResponse:
        return self.client.get(path, query_string=params)


def _storage_options(name: str, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    if name == "sqlite":
        return "sql", {"url": f"sqlite:///{tmp_path / 'traces.db'}", "retention": "0s"}
    return name, {}


@pytest.fixture(params=STORAGES)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    kind, options = _storage_options(request.param, tmp_path)
    storage = create_storage(kind, options, "test")
    app = create_app(storage.reader(), storage.dependency_reader())
    yield Api(app.test_client(), storage)
    storage.close()


def error_envelope(status: int, message: str) -> dict[str, Any]:
    return {"data": None, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": status, "msg": message}]}
