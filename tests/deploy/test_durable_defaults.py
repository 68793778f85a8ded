"""Every shipped config that answers senders puts what it accepted on disk first: the built-in default (hotrod
backend, hotrod all), the compose/Kubernetes backends and the collector roles (one Redis, Redis Cluster).  A
batch processor in front of such an exporter would answer from memory, so none of them has one."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from backend.config import Config, load
from backend.extensions.file_storage.extension import FACTORY as FILE_STORAGE
from tests.deploy.manifests import DOCKERFILE, K8S_CLUSTER_DIR, K8S_DIR, REPO, k8s_documents

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


IMAGE_APP = PurePosixPath("/app")  # where the Dockerfile copies the repository


def image_workdir() -> PurePosixPath:
    """The Dockerfile's last WORKDIR: a relative queue ``directory`` is under it in the container."""
    workdirs = [line.split(None, 1)[1] for line in DOCKERFILE.read_text().splitlines() if line.startswith("WORKDIR ")]
    return PurePosixPath(workdirs[-1])


def queue_folders(container: dict[str, Any]) -> list[PurePosixPath]:
    """The persistent sending queue folders of the backend config a container runs (HOTROD_BACKEND_CONFIG)."""
    env = {item["name"]: item.get("value", "") for item in container.get("env", [])}
    config_in_image = env.get("HOTROD_BACKEND_CONFIG")
    if container.get("args", [None])[0] != "backend" or not config_in_image:
        return []
    config = load(str(REPO / PurePosixPath(config_in_image).relative_to(IMAGE_APP)))
    folders = []
    for eid in durable_exporters(config):
        storage = config.exporters[eid].options.sending_queue.storage
        if storage:
            folders.append(image_workdir() / config.extensions[storage].options.directory)
    return folders


def k8s_queue_users() -> list[tuple[str, dict[str, Any], PurePosixPath]]:
    """(workload name, workload, queue folder) for every k8s workload whose backend keeps a persistent queue."""
    found = []
    for directory in (K8S_DIR, K8S_CLUSTER_DIR):
        for _, document in k8s_documents(directory):
            if document["kind"] not in ("Deployment", "StatefulSet"):
                continue
            for container in document["spec"]["template"]["spec"]["containers"]:
                for folder in queue_folders(container):
                    found.append((document["metadata"]["name"], document, folder))
    return found


def test_the_kubernetes_collectors_and_backend_keep_a_persistent_queue() -> None:
    assert {name for name, _, _ in k8s_queue_users()} >= {"backend", "collector"}


@pytest.mark.parametrize("name, workload, folder", k8s_queue_users(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_pod_s_queue_folder_is_on_a_claim_of_its_own(name: str, workload: dict, folder: PurePosixPath) -> None:
    """On the pod's own filesystem the queue dies with the pod; a claim shared by replicas is locked by one of them.
    So: a StatefulSet's per-pod claim (volumeClaimTemplates), or one claim for a single replica replaced with
    Recreate (never two pods on it at once)."""
    spec = workload["spec"]
    pod = spec["template"]["spec"]
    mounts = [m for c in pod["containers"] for m in c.get("volumeMounts", []) if folder.is_relative_to(m["mountPath"])]
    assert mounts, f"{name}: nothing is mounted at its queue folder {folder}"
    volume = mounts[0]["name"]
    templates = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    if workload["kind"] == "StatefulSet" and volume in templates:
        assert pod["securityContext"].get("fsGroup") == pod["securityContext"]["runAsUser"], "the claim is writable"
        return
    claims = {v["name"] for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}
    assert volume in claims, f"{name}: {folder} is not on a volume claim"
    assert spec.get("replicas", 1) == 1, f"{name}: {spec.get('replicas')} replicas would share one claim"
    assert spec.get("strategy", {}).get("type") == "Recreate", f"{name}: a rolling update runs two pods on it"
