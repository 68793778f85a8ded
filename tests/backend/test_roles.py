"""The scale-out roles in deploy/roles/ (and their Redis Cluster variant in cluster/): each an ordinary config."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from backend.config import load
from backend.service import BackendService
from backend.storage.factory import create_storage
from tests.builders import SpanSpec, batch_of
from tests.support import on_any_port

ROLES = Path(__file__).resolve().parents[2] / "deploy" / "roles"


@pytest.mark.parametrize(
    "role", ["collector", "ingester", "query", "cluster/collector", "cluster/ingester", "cluster/query"]
)
def test_each_role_config_is_valid(role: str):
    config = load(str(ROLES / f"{role}.yaml"))

    assert config.source.endswith(f"{role}.yaml")


def test_the_query_role_serves_the_api_with_no_pipeline(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    config = load(
        str(ROLES / "query.yaml"),
        [
            f"extensions.jaeger_storage.backends.main.sql.url={url}",
            *on_any_port("query", "health", "metrics"),
        ],
    )
    assert config.pipelines == {}
    # What an ingester would have written to the shared storage.
    writer_side = create_storage("sql", {"url": url}, "ingester")
    writer_side.writer().write(batch_of([SpanSpec("frontend", "GET /dispatch")]))
    writer_side.close()

    service = BackendService(config)
    service.start()
    try:
        answer = requests.get(f"http://{service.endpoints['jaeger_query']}/api/services", timeout=5)
    finally:
        service.shutdown()

    assert answer.json()["data"] == ["frontend"]


def test_a_config_with_neither_pipelines_nor_extensions_is_refused(tmp_path: Path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("service: {}\n")

    with pytest.raises(ValueError, match="at least one pipeline"):
        load(str(empty))
