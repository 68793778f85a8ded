"""Every shipped config that answers senders puts what it accepted on disk first: the built-in default (hotrod
backend, hotrod all), the compose/Kubernetes backends and the collector roles (one Redis, Redis Cluster).  A
batch processor in front of such an exporter would answer from memory, so none of them has one."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import Config, load
from backend.extensions.file_storage.extension import FACTORY as FILE_STORAGE

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COLLECTORS = [str(DEPLOY / "roles" / "collector.yaml"), str(DEPLOY / "roles" / "cluster" / "collector.yaml")]
SHIPPED = [None, *sorted(str(p) for p in (DEPLOY / "backend").glob("*.yaml")), *COLLECTORS]
DURABLE = ("jaeger_storage_exporter", "redis_streams")


def durable_exporters(config: Config) -> list[str]:
    return [eid for eid in config.exporters if eid.split("/")[0] in DURABLE]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: "default" if p is None else str(Path(p).relative_to(DEPLOY)))
def test_the_exporter_that_stores_has_a_persistent_queue_and_no_batch_processor_in_front(path: str | None) -> None:
    config = load(path)
    exporters = durable_exporters(config)
    assert exporters
    for eid in exporters:
        storage = config.exporters[eid].options.sending_queue.storage
        assert storage in config.service_extensions
        assert config.extensions[storage].factory is FILE_STORAGE
        assert config.extensions[storage].options.fsync == "always"
    for pipeline in config.pipelines.values():
        if set(pipeline.exporters) & set(exporters):
            assert not [p for p in pipeline.processors if p.split("/")[0] == "batch"]


@pytest.mark.parametrize("role", ["roles/ingester.yaml", "roles/cluster/ingester.yaml"])
def test_the_ingester_acknowledges_the_stream_only_after_storage_so_its_queue_may_stay_in_memory(role: str) -> None:
    config = load(str(DEPLOY / role))
    assert config.exporters["jaeger_storage_exporter"].options.sending_queue.storage == ""
    assert config.pipelines["traces"].processors == []
