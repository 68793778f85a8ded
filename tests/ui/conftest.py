"""The query app (API + UI) over real memory storage on a real port, and headless Chromium to drive it.

Browser tests skip, saying why, only when Debian's Chromium is not installed
(``apt-get install -y chromium``); Playwright drives that binary, never a
downloaded one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.extensions.wsgi_server import WsgiServer
from backend.query.app import create_app
from backend.storage.api import Storage
from backend.storage.factory import create_storage
from tests.builders import SpanSpec, batch_of
from tests.support import free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Site:
    base_url: str
    storage: Storage

    def store(self, *specs: SpanSpec) -> None:
        self.storage.writer().write(batch_of(list(specs)))

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def site() -> Iterator[Site]:
    """A fresh memory store served on an ephemeral port, as ``hotrod backend`` serves it."""
    storage = create_storage("memory", {}, "test")
    port = free_port()
    server = WsgiServer(create_app(storage.reader(), storage.dependency_reader()), "127.0.0.1", port, name="ui-test")
    server.start()
    base = f"http://127.0.0.1:{port}"
    import requests

    wait_for(lambda: requests.get(base + "/api/services", timeout=2).ok, timeout=10, what="query app listening")
    yield Site(base, storage)
    server.stop()
    storage.close()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A page whose script errors fail the test (a broken script is a broken page)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("dialog", lambda dialog: errors.append(f"unexpected dialog: {dialog.message}"))
    yield opened
    context.close()
    assert not errors, errors


def screenshots_wanted() -> Path | None:
    """Where to write README screenshots: ``UI_SCREENSHOTS=dir`` turns them on."""
    target = os.environ.get("UI_SCREENSHOTS")
    return Path(target) if target else None
