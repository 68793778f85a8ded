"""deploy/k8s: valid Kubernetes objects (offline, against the API schemas), the compose topology, probes and limits."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.manifests import K8S_CLUSTER_DIR, K8S_DIR, compose_services, k8s_containers, k8s_documents

KUBERNETES_VERSION = "1.30.0"
# the stack, and the overlay that adds the scale-out roles on a Redis Cluster (compose's `cluster` profile)
DIRECTORIES = [K8S_DIR, K8S_CLUSTER_DIR]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")


def workloads(directory: Path = K8S_DIR) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for _, d in k8s_documents(directory) if d["kind"] in WORKLOAD_KINDS}


def services(directory: Path = K8S_DIR) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for _, d in k8s_documents(directory) if d["kind"] == "Service"}


def every_container() -> list[tuple[str, dict]]:
    return [pair for directory in DIRECTORIES for pair in k8s_containers(directory)]


@pytest.mark.parametrize(
    "document",
    [d for directory in DIRECTORIES for _, d in k8s_documents(directory)],
    ids=lambda d: f"{d['kind']}/{d['metadata']['name']}",
)
def test_each_object_validates_against_the_kubernetes_schema(document: dict) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validation_is_strict_about_unknown_fields() -> None:
    deployment = copy.deepcopy(workloads()["frontend"])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest_and_puts_them_in_one_namespace() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    files = {path.name for path in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    namespaces = [d for _, d in k8s_documents() if d["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == [kustomization["namespace"]]


def test_the_cluster_overlay_adds_its_manifests_to_the_stack_in_the_same_namespace() -> None:
    overlay = yaml.safe_load((K8S_CLUSTER_DIR / "kustomization.yaml").read_text())
    files = {path.name for path in K8S_CLUSTER_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(overlay["resources"]) == files | {".."}
    base = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert overlay["namespace"] == base["namespace"]


def test_the_same_stack_as_compose_with_locust_master_and_workers() -> None:
    in_compose = {name for name, s in compose_services().items() if name != "jaeger" and "cluster" not in s.profiles}
    assert set(workloads()) == in_compose
    assert workloads()["locust-worker"]["spec"]["replicas"] >= 2


def test_the_cluster_overlay_is_compose_s_cluster_profile_with_the_same_replicas() -> None:
    in_compose = {name: s for name, s in compose_services().items() if "cluster" in s.profiles}
    overlay = workloads(K8S_CLUSTER_DIR)
    assert set(overlay) == set(in_compose)
    for name, workload in overlay.items():
        assert workload["spec"].get("replicas", 1) == in_compose[name].replicas, name


@pytest.mark.parametrize("workload, container", every_container(), ids=lambda value: str(value)[:20])
def test_every_container_has_probes_requests_and_limits(workload: str, container: dict) -> None:
    if workload != "redis-cluster-init":  # a one-shot Job: nothing to probe
        assert "readinessProbe" in container and "livenessProbe" in container, workload
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}, f"{workload} {kind}"


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda path: path.name)
def test_every_service_selects_a_workload_and_targets_its_named_ports(directory: Path) -> None:
    for name, service in services(directory).items():
        selected = [
            w
            for w in workloads(directory).values()
            if w["spec"]["template"].get("metadata", {}).get("labels") == service["spec"]["selector"]
        ]
        assert len(selected) == 1, name
        container_ports = {p["name"] for c in selected[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= container_ports, name


def test_the_workers_find_the_master_by_its_service() -> None:
    worker_args = dict(k8s_containers())["locust-worker"]["args"]
    master_host = worker_args[worker_args.index("--master-host") + 1]
    assert 5557 in {p["port"] for p in services()[master_host]["spec"]["ports"]}


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda path: path.name)
def test_our_containers_run_as_the_images_non_root_user(directory: Path) -> None:
    for name, workload in workloads(directory).items():
        spec = workload["spec"]["template"]["spec"]
        if spec["containers"][0]["image"].startswith("hotrod-py"):
            assert spec["securityContext"]["runAsNonRoot"] is True, name
            assert spec["securityContext"]["runAsUser"] == 10001, name


def test_the_hotrod_containers_are_configured_as_in_compose() -> None:
    in_compose = compose_services()
    for workload, container in every_container():
        if container["image"].startswith("hotrod-py"):
            environment = {item["name"]: item["value"] for item in container["env"]}
            expected = in_compose[workload].environment
            assert {k: expected.get(k) for k in environment} == environment, workload
            assert container["args"] == in_compose[workload].command, workload
