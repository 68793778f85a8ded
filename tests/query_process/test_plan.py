"""Which configs get a query process, and what the two configs hold (no process started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import apply_overrides, from_mapping, read
from backend.core.binding import ConfigError
from backend.query_process.plan import plan
from tests.backend.conftest import run_backend

ROOT = Path(__file__).parents[2]


def default_tree(*overrides: str) -> dict:
    tree = read(None)
    apply_overrides(tree, overrides, "test")
    return tree


def test_the_default_config_splits_into_an_ingest_config_and_a_query_only_config() -> None:
    split = plan(default_tree(), "auto", "test")
    assert split is not None
    parent, child = from_mapping(split.parent, "test"), from_mapping(split.child, "test")
    assert "jaeger_query" not in parent.service_extensions and parent.pipelines
    assert child.service_extensions == ["jaeger_storage", "jaeger_query"] and not child.pipelines
    storage = split.child["extensions"]["jaeger_storage"]
    assert storage["backends"] == split.parent["extensions"]["jaeger_storage"]["backends"]
    assert storage["purge_interval"] == 0  # retention runs once, in the ingesting process
    assert child.telemetry.metrics.level == "none"  # :8888 stays the ingesting process's
    # the Monitor page follows what the ingesting process's spanmetrics processor persists
    assert split.child["extensions"]["jaeger_query"]["metrics_history"] == split.parent["processors"]["spanmetrics"]
    assert not split.tail_sampling


def test_only_the_storages_the_query_api_reads_go_to_the_query_process() -> None:
    tree = default_tree("extensions.jaeger_storage.backends.archive={sql: {url: 'sqlite:///other.db'}}")
    split = plan(tree, "on", "test")
    assert split is not None
    assert list(split.child["extensions"]["jaeger_storage"]["backends"]) == ["main"]


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        ({"memory": {}}, "memory storage"),
        ({"sql": {"url": "sqlite://"}}, "in-memory SQLite"),
        ({"sql": {"url": "sqlite:///file:x?mode=memory&uri=true"}}, "in-memory SQLite"),
        ({"redis": {}}, "embedded Redis"),
        ({"clickhouse": {}}, "embedded chDB"),
    ],
)
def test_storages_a_second_process_cannot_open_keep_the_query_api_in_process(backend: dict, reason: str) -> None:
    tree = default_tree()
    tree["extensions"]["jaeger_storage"]["backends"]["main"] = backend
    assert plan(tree, "auto", "test") is None
    with pytest.raises(ConfigError, match=reason) as raised:
        plan(tree, "on", "test")
    assert raised.value.where == "test: extensions.jaeger_storage.backends.main"


@pytest.mark.parametrize(
    "backend",
    [
        {"sql": {"url": "postgresql+psycopg://u@db/traces"}},
        {"redis": {"url": "redis://127.0.0.1:6379/0"}},
        {"clickhouse": {"url": "http://127.0.0.1:8123"}},
    ],
)
def test_servers_by_url_are_shared(backend: dict) -> None:
    tree = default_tree()
    tree["extensions"]["jaeger_storage"]["backends"]["main"] = backend
    split = plan(tree, "auto", "test")
    assert split is not None and split.child["extensions"]["jaeger_storage"]["backends"]["main"] == backend


def test_off_and_a_query_only_role_keep_one_process() -> None:
    assert plan(default_tree(), "off", "test") is None
    role = read(str(ROOT / "deploy" / "roles" / "query.yaml"))
    assert plan(role, "on", "query.yaml") is None  # a query role is a process of its own already


def test_tail_sampling_counters_are_read_from_the_ingesting_process() -> None:
    split = plan(read(str(ROOT / "deploy" / "examples" / "tail-sampling.yaml")), "auto", "tail-sampling.yaml")
    assert split is not None and split.tail_sampling


def test_an_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="auto, on, off"):
        plan(default_tree(), "sometimes", "test")


def test_on_with_the_memory_storage_stops_start_up_saying_why(tmp_path: Path) -> None:
    result = run_backend("--storage", "memory", "--query-process", "on", cwd=tmp_path)
    assert result.returncode == 2
    assert "the memory storage lives in the ingesting process's memory" in result.stderr
