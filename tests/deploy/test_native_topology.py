"""compose.yaml's default stack and its load profile, started natively from what the file says: a traced
dispatch completes, and Locust's master and workers drive the frontend.

No Docker engine runs here, so this is the stand-in for ``docker compose up``: the same commands,
environment, start order and healthchecks, with hostnames and ports mapped onto this machine
(tests/deploy/native.py) and this machine's PostgreSQL and Redis standing in for the compose ones.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import create_engine, make_url, text

from tests.deploy import native
from tests.deploy.manifests import compose_services
from tests.hotrod.launcher import find_trace, trace_id_of
from tests.support import DATABASE_URL, wait_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# what a person would put before `docker compose up` to make the demo quick
COMPOSE_VARIABLES = {"HOTROD_DELAY_SCALE": "0.05"}
DEMO = {"frontend", "customer", "driver", "route"}


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of its own on the test server, as the compose postgres service is one of its own."""
    name = f"deploy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    prefix = f"deploy_{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database: str, redis_prefix: str) -> Iterator[native.Translation]:
    services = {name: s for name, s in compose_services(COMPOSE_VARIABLES).items() if set(s.profiles) <= {"load"}}
    translation = native.Translation(
        services=list(services),
        postgres_url=database,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        workdir=Path(tmp_path_factory.mktemp("compose-native")),
    )
    started = native.start(services, translation)
    yield translation
    codes = native.stop(started)
    assert set(codes.values()) == {0}, {r.name: r.log_text() for r in started if codes[r.name]}


def test_the_stack_starts_in_compose_order() -> None:
    order = native.start_order(compose_services())
    assert order.index("backend") < min(order.index(name) for name in ("customer", "driver", "route"))
    assert order.index("frontend") > max(order.index(name) for name in ("customer", "driver", "route"))
    assert not set(native.STAND_INS) & set(order)


def test_a_dispatch_through_the_frontend_is_traced_into_the_backend(stack: native.Translation, database: str) -> None:
    reply = requests.get(stack.url("frontend", 8080, "/dispatch"), params={"customer": 392}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["customer_name"] == "Trom Chocolatier"

    trace = find_trace(stack.url("backend", 16686), trace_id_of(reply), DEMO, timeout=30)
    systems = {tag["value"] for span in trace["spans"] for tag in span["tags"] if tag["key"] == "db.system"}
    assert {"postgresql", "redis"} <= systems, "the customer on PostgreSQL and the driver on Redis, as in compose"
    root = next(span for span in trace["spans"] if not span["references"])
    assert "sampler.type" in {tag["key"] for tag in root["tags"]}, "sampled by the backend's remote strategies"


def test_the_backend_stores_traces_in_the_compose_postgresql(stack: native.Translation, database: str) -> None:
    engine = create_engine(database)
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'traces'")
        ).scalars()
        assert "spans" in set(tables)
        stored = connection.execute(text("SELECT count(*) FROM traces.spans")).scalar_one()
    engine.dispose()
    assert stored > 0


def test_the_load_profile_drives_the_frontend_from_locust_workers(stack: native.Translation) -> None:
    master = stack.url("locust-master", 8089)
    wait_for(lambda: len(requests.get(f"{master}/stats/requests", timeout=5).json()["workers"]) == 2, timeout=60,
             what="both locust workers connected to the master")  # fmt: skip
    started = requests.post(f"{master}/swarm", data={"user_count": 2, "spawn_rate": 2}, timeout=10)
    assert started.json()["success"], started.text
    try:
        dispatches = wait_for(
            lambda: dispatch_rows(master) if sum(row["num_requests"] for row in dispatch_rows(master)) >= 4 else None,
            timeout=60,
            what="dispatches from the locust users",
        )
    finally:
        requests.get(f"{master}/stop", timeout=10)
    assert sum(row["num_failures"] for row in dispatches) == 0, dispatches


def dispatch_rows(master: str) -> list[dict]:
    """Locust's statistics rows for the users' dispatch requests (named ``dispatch [scenario]``)."""
    stats = requests.get(f"{master}/stats/requests", timeout=5).json()["stats"]
    return [row for row in stats if row["name"].startswith("dispatch")]
