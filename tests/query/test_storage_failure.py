"""When storage itself fails, the API still answers in its own JSON shapes (503), never an HTML page."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from backend.query.app import create_app
from backend.storage.factory import create_storage


@pytest.fixture
def broken_client(tmp_path: Path) -> Iterator[FlaskClient]:
    """A SQLite store whose tables were dropped behind its back."""
    path = tmp_path / "traces.db"
    storage = create_storage("sql", {"url": f"sqlite:///{path}"}, "test")
    app = create_app(storage.reader(), storage.dependency_reader())
    with sqlite3.connect(path) as connection:
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            connection.execute(f'DROP TABLE "{table}"')
    yield app.test_client()
    storage.close()


def test_a_storage_failure_is_a_503_in_the_envelope(broken_client):
    response = broken_client.get("/api/services")

    assert response.status_code == 503
    assert response.mimetype == "application/json"
    [error] = response.json["errors"]
    assert error["code"] == 503 and error["msg"].startswith("storage error:")


def test_a_storage_failure_under_api_v3_is_a_503_in_the_gateway_shape(broken_client):
    response = broken_client.get("/api/v3/services")

    assert response.status_code == 503
    assert response.json["error"]["httpCode"] == 503
