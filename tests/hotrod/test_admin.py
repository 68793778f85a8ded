"""``/admin/faults``: loopback or bearer token only; validated updates; the frontend fans changes out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask.testing import FlaskClient

from hotrod.knobs import Knobs
from hotrod.service_app import create_app
from hotrod.telemetry import Telemetry
from tests.hotrod.launcher import HotrodAll

TOKEN = "s3cret-admin-token"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    monkeypatch.setenv("HOTROD_ADMIN_TOKEN", TOKEN)
    yield create_app("route", Knobs(), Telemetry([])).test_client()


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "127.0.0.53"])
def test_loopback_clients_need_no_token(client: FlaskClient, address: str) -> None:
    assert client.get("/admin/faults", **from_address(address)).status_code == 200


def test_other_clients_are_refused_without_the_token(client: FlaskClient) -> None:
    reply = client.get("/admin/faults", **from_address("10.1.2.3"))
    assert reply.status_code == 403
    assert "HOTROD_ADMIN_TOKEN" in reply.get_json()["error"]


def test_a_wrong_token_is_refused(client: FlaskClient) -> None:
    reply = client.get("/admin/faults", headers={"Authorization": "Bearer nope"}, **from_address("10.1.2.3"))
    assert reply.status_code == 403


def test_the_right_token_admits_any_client(client: FlaskClient) -> None:
    reply = client.put(
        "/admin/faults",
        json={"driver_error_rate": 0.5},
        headers={"Authorization": f"Bearer {TOKEN}"},
        **from_address("10.1.2.3"),
    )
    assert reply.status_code == 200
    assert reply.get_json()["driver_error_rate"] == 0.5


def test_without_a_configured_token_only_loopback_is_admitted(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTROD_ADMIN_TOKEN")
    reply = client.get("/admin/faults", headers={"Authorization": "Bearer "}, **from_address("10.1.2.3"))
    assert reply.status_code == 403


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"no_such_knob": 1}, "unknown knob"),
        ({"driver_error_rate": 2}, "between 0 and 1"),
        ({"route_worker_pool_size": 0}, "integer from 1"),
        ({"db_conn_mutex_disabled": "yes"}, "true or false"),
        ({"extra_latency_ms": {"billing": 10}}, "unknown service"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(client: FlaskClient, body: object, words: str) -> None:
    before = client.get("/admin/faults").get_json()
    reply = client.put("/admin/faults", json={"dispatch_failure_rate": 0.5, **body} if isinstance(body, dict) else body)
    assert reply.status_code == 400
    assert words in reply.get_json()["error"]
    assert client.get("/admin/faults").get_json() == before


def test_a_body_that_is_not_json_is_refused(client: FlaskClient) -> None:
    reply = client.put("/admin/faults", data="db_conn_mutex_disabled=true", content_type="text/plain")
    assert reply.status_code == 400


def test_the_frontend_fans_a_change_out_to_every_service(hotrod: HotrodAll, knobs_restored: dict) -> None:
    reply = requests.put(f"{hotrod.frontend}/admin/faults", json={"extra_latency_ms": {"route": 5}}, timeout=10)
    assert reply.status_code == 200
    services = reply.json()["services"]
    assert set(services) == {"customer", "driver", "route"}
    assert all(state["extra_latency_ms"]["route"] == 5 for state in services.values())
    for service in ("customer", "driver", "route"):
        state = requests.get(f"{hotrod.url(service)}/admin/faults", timeout=10).json()
        assert state["extra_latency_ms"]["route"] == 5
