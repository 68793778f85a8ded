"""compose.yaml is a valid Compose file, and its shape is the one the README promises."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from backend.config import load
from tests.deploy.manifests import DOCKERFILE, REPO, compose_document, compose_services

SCHEMA_COPY = Path(__file__).with_name("compose-spec.json")
SHARED_SCHEMA = REPO.parent / "shared" / "schemas" / "compose-spec.json"


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA_COPY.read_text()))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_yaml_validates_against_the_compose_specification() -> None:
    assert schema_errors(compose_document()) == []


def test_the_schema_copy_is_the_shared_one() -> None:
    if not SHARED_SCHEMA.exists():
        pytest.skip("no ../shared/schemas beside this checkout")
    assert json.loads(SCHEMA_COPY.read_text()) == json.loads(SHARED_SCHEMA.read_text())


def test_the_validation_catches_a_broken_file() -> None:
    broken = copy.deepcopy(compose_document())
    broken["services"]["frontend"]["depends_on"]["customer"]["condition"] = "service_ready"
    broken["services"]["backend"]["healthcheck"]["retry"] = 3
    errors = schema_errors(broken)
    assert len(errors) == 2, errors
    assert any(error.startswith("services.frontend.depends_on:") for error in errors), errors
    assert any(error.startswith("services.backend.healthcheck:") and "'retry'" in error for error in errors), errors


def test_the_default_stack_is_the_demo_the_backend_postgres_and_redis() -> None:
    default = {name for name, service in compose_services().items() if not service.profiles}
    assert default == {"backend", "frontend", "customer", "driver", "route", "postgres", "redis"}


def test_profiles_add_locust_master_and_workers_and_a_real_jaeger() -> None:
    services = compose_services()
    assert {name for name, s in services.items() if "load" in s.profiles} == {"locust-master", "locust-worker"}
    assert {name for name, s in services.items() if "jaeger" in s.profiles} == {"jaeger"}
    assert services["jaeger"].image.startswith("jaegertracing/jaeger:2.")


def test_the_cluster_profile_runs_the_cluster_roles_on_six_redis_nodes() -> None:
    services = {name: s for name, s in compose_services().items() if "cluster" in s.profiles}
    assert set(services) == {"redis-node", "redis-cluster-init", "collector", "ingester", "query"}
    assert services["redis-node"].replicas == 6
    assert "--cluster-replicas 1" in services["redis-cluster-init"].command[-1]
    assert (services["collector"].replicas, services["ingester"].replicas) == (2, 2)


@pytest.mark.parametrize("role", ["collector", "ingester", "query"])
def test_each_cluster_role_loads_with_its_overrides_and_reaches_redis_by_service_name(role: str) -> None:
    service = compose_services()[role]
    overrides = [word for word in service.command[1:] if word != "--set"]
    config_path = service.environment["HOTROD_BACKEND_CONFIG"]
    assert config_path == f"/app/deploy/roles/cluster/{role}.yaml"
    config = load(str(REPO / config_path.removeprefix("/app/")), overrides)
    assert overrides and all(value.endswith("=redis+cluster://redis-node:6379") for value in overrides)
    assert config.source.endswith(f"{role}.yaml")


def test_every_config_a_service_names_is_copied_into_the_image() -> None:
    copies = [line.split()[1:] for line in DOCKERFILE.read_text().splitlines() if line.startswith("COPY deploy/")]
    for name, service in compose_services().items():
        path = service.environment.get("HOTROD_BACKEND_CONFIG")
        if path:
            sources = [source for source, target in copies if path.startswith(target + "/")]
            assert sources, f"{name}: {path} is not in the image"
            assert (REPO / path.removeprefix("/app/")).is_file(), name


def test_every_python_service_runs_the_one_image_with_its_own_command() -> None:
    ours = {name: s for name, s in compose_services().items() if s.is_ours}
    assert set(ours) >= {"backend", "frontend", "customer", "driver", "route", "locust-master", "locust-worker"}
    assert len({s.image for s in ours.values()}) == 1
    assert all(s.command for s in ours.values())


def test_the_demo_and_trace_ui_ports_are_published() -> None:
    document = compose_document()["services"]
    assert "8080:8080" in document["frontend"]["ports"]
    assert "16686:16686" in document["backend"]["ports"]
    assert "8089:8089" in document["locust-master"]["ports"]


def test_every_dependency_waits_for_a_healthcheck_where_there_is_one() -> None:
    """… or for a one-shot job (``restart: "no"``) to have finished."""
    services = compose_services()
    for name, service in services.items():
        for dependency, condition in service.depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if services[dependency].restart == "no":
                expected = "service_completed_successfully"
            else:
                expected = "service_healthy" if services[dependency].healthcheck else "service_started"
            assert condition == expected, f"{name} → {dependency}: {condition}"


def test_every_server_of_the_default_stack_has_a_healthcheck() -> None:
    for name, service in compose_services().items():
        if not service.profiles:
            assert service.healthcheck, name


def test_the_customer_uses_postgresql_and_the_driver_redis() -> None:
    services = compose_services()
    assert services["customer"].environment["HOTROD_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in services["customer"].environment["HOTROD_DATABASE_URL"]
    assert services["driver"].environment["HOTROD_REDIS_URL"].startswith("redis://redis:6379")


@pytest.mark.parametrize("storage", ["postgres", "sqlite", "memory", "postgres-jaeger"])
def test_the_storage_switch_names_a_backend_config_that_loads(storage: str) -> None:
    config_path = compose_services({"BACKEND_STORAGE": storage})["backend"].environment["HOTROD_BACKEND_CONFIG"]
    assert config_path == f"/app/deploy/backend/{storage}.yaml"
    config = load(str(REPO / config_path.removeprefix("/app/")))
    assert "jaeger_storage_exporter" in config.exporters


def test_postgres_is_the_default_storage() -> None:
    path = compose_services()["backend"].environment["HOTROD_BACKEND_CONFIG"]
    assert path == "/app/deploy/backend/postgres.yaml"


def test_the_jaeger_config_forwards_to_the_jaeger_service_in_a_pipeline_of_its_own() -> None:
    config = load(str(REPO / "deploy/backend/postgres-jaeger.yaml"))
    assert config.exporters["otlp_forward"].options.endpoint == "http://jaeger:4318/v1/traces"
    forwarding = [p for p in config.pipelines.values() if "otlp_forward" in p.exporters]
    assert len(forwarding) == 1 and forwarding[0].exporters == ["otlp_forward"]
