"""The query app (API + UI) over real memory storage on a real port (the browser is in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.query.app import create_app
from backend.storage.api import Storage
from backend.storage.factory import create_storage
from httpd.wsgi_server import WsgiServer
from tests.builders import WritesSpans
from tests.support import wait_for


@dataclass
class Site(WritesSpans):
    base_url: str
    storage: Storage

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def site() -> Iterator[Site]:
    """A fresh memory store served on an ephemeral port, as ``hotrod backend`` serves it."""
    storage = create_storage("memory", {}, "test")
    server = WsgiServer(create_app(storage.reader(), storage.dependency_reader()), "127.0.0.1", 0, name="ui-test")
    server.start()
    base = f"http://{server.address}"
    import requests

    wait_for(lambda: requests.get(base + "/api/services", timeout=2).ok, timeout=10, what="query app listening")
    yield Site(base, storage)
    server.stop()
    storage.close()


def screenshots_wanted() -> Path | None:
    """Where to write README screenshots: ``UI_SCREENSHOTS=dir`` turns them on."""
    target = os.environ.get("UI_SCREENSHOTS")
    return Path(target) if target else None
