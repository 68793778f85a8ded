"""A strategy server that tests steer: what it answers, with which status, and whether it holds requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify, request

from tests.sampling.wsgi_server import serving


class StrategyServer:
    def __init__(self) -> None:
        self.strategy: Any = {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 1.0}}
        self.status = 200
        self.services: list[str] = []
        self.release = threading.Event()
        self.release.set()
        self.url = ""

    def app(self) -> Flask:
        app = Flask("strategy-server")

        @app.get("/sampling")
        def sampling():
            self.release.wait(timeout=30)
            self.services.append(request.args.get("service", ""))
            return jsonify(self.strategy), self.status

        return app


@pytest.fixture
def strategy_server() -> Iterator[StrategyServer]:
    server = StrategyServer()
    with serving(server.app()) as base_url:
        server.url = base_url + "/sampling"
        yield server
        server.release.set()


@pytest.fixture
def pg_schema() -> Iterator[tuple[object, str]]:
    """A throw-away PostgreSQL schema on the test database: ``(engine, schema name)``."""
    import uuid

    from sqlalchemy import create_engine, text

    from tests.support import DATABASE_URL

    engine = create_engine(DATABASE_URL)
    schema = f"sampling_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield engine, schema
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
