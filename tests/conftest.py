"""Fixtures every test area shares: headless Chromium and a Redis Cluster, each started once per session; no
process left behind.

One browser for the whole session: Playwright's sync API allows one running
instance per thread, so every area that drives pages (UI, Monitor, HotROD
page) uses these fixtures rather than starting its own.  Browser tests skip,
saying why, only when Debian's Chromium is not installed
(``apt-get install -y chromium``); Playwright drives that binary, never a
downloaded one.

A run fails when it leaves any process of its own running (``tests.leftovers``): the session's
end names them, then kills them.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import leftovers
from tests.redis_cluster import LocalCluster, local_cluster

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


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses every connection during the test: bound, so nobody else can take it, but
    never listening (a port merely free a moment ago may be taken, and then answer, by the time it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


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


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A real Redis Cluster (3 masters, 3 replicas) for the session; a test that kills a node heals it after."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("redis-server and redis-cli are not installed (apt-get install -y redis-server)")
    with local_cluster() as cluster:
        yield cluster


def pytest_sessionstart(session: pytest.Session) -> None:
    leftovers.mark_this_run()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    left = leftovers.wait_until_none_left(leftovers.GRACE_S)
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(left)} process(es) this run started are still running:", *map(leftovers.describe, left)]
    for line in lines:
        reporter.write_line(line, red=True) if reporter else print(line)
    leftovers.kill(left)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
